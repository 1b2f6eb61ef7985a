#pragma once
// A parsed AT command line (ITU-T V.250 §5.2-5.4, 3GPP TS 27.007 §4).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "twofold/modem/at/errors.h"
#include "twofold/modem/at/parameter.h"

namespace twofold::modem::at {

enum class CommandKind : std::uint8_t {
  kBasic,      // single letter or '&' + letter, optional number: E0, V1, Z, &F, H
  kSRegister,  // S<n>=<value> or S<n>?
  kExtended,   // +NAME (and vendor prefixes ^ % $ # *)
  kDial,       // D<dial string>[;]
};

enum class CommandForm : std::uint8_t {
  kAction,  // +CGMI, Z, H
  kSet,     // +CMGF=1, E0, S0=2
  kRead,    // +CREG?, S7?
  kTest,    // +CREG=?
};

std::string_view to_string(CommandKind kind) noexcept;
std::string_view to_string(CommandForm form) noexcept;

struct DialString {
  // Normalised: digits, leading '+', '*', '#', A-D, and modifiers ',' 'T' 'P' 'W' '!' '@'.
  // Ignored formatting characters ("-", "(", ")", spaces) are removed.
  std::string number;
  bool voice = false;          // trailing ';' (27.007 §6.2 voice call)
  std::optional<bool> clir;    // 'I' restrict / 'i' allow presentation (27.007 §6.2)
  std::optional<bool> cug;     // 'G' / 'g' closed user group
  bool operator==(const DialString&) const = default;
};

struct Command {
  CommandKind kind = CommandKind::kBasic;
  CommandForm form = CommandForm::kAction;
  std::string name;  // upper case: "E", "&F", "S7", "+CMGS", "D"
  std::vector<Parameter> params;
  DialString dial;   // meaningful for kDial only
  bool operator==(const Command&) const = default;
};

struct CommandLine {
  std::vector<Command> commands;  // empty for a bare "AT"
  bool operator==(const CommandLine&) const = default;
};

// Parses one command line: "AT" prefix (any case) and the commands after it, without the
// terminator. Never throws for bad input; returns the first error found.
Result<CommandLine> parse_command_line(std::string_view untrusted_line);

}  // namespace twofold::modem::at
