#pragma once
// Which guest commands may reach the shared physical modem. Pure: a parsed command in, a
// verdict out. One table (command_table(), mirrored in docs/modem.md "Command classes")
// gives every command and form exactly one class: persona-local, forwarded with an ownership
// check, dom0-only, or refused. Default deny: anything not in the table is refused.
#include <cstdint>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>

#include "twofold/modem/at/command.h"
#include "twofold/policy/policy.h"

namespace twofold::modem::mediator {

// What one persona may do, taken from its [persona.modem] table.
struct PersonaRights {
  std::string name;
  std::set<policy::AtFamily> families;
  bool dial = false;
  bool answer = false;
  std::optional<std::uint32_t> sms_per_hour;  // unset: no limit of the mediator's

  // nullopt when the persona has no [persona.modem]: it gets no modem channel at all.
  static std::optional<PersonaRights> from_policy(const policy::Persona& persona);
};

// The command classes of issue 13 (docs/modem.md "Command classes").
enum class Handling : std::uint8_t {
  kForward,   // forwarded with an ownership check: ids rewritten, answers filtered to the
              // persona's own, or a read of shared state no persona can change
  kLocal,     // answered by the mediator from the persona's own virtual modem, never sent
  kDom0Only,  // reads or changes state both personas share: never from a guest
  kUnknown,   // refused: not in the table (default deny)
};

struct Classification {
  Handling handling = Handling::kUnknown;
  std::optional<policy::AtFamily> family;  // the family a persona needs (kForward, most kLocal)
};

// One row of the command table: a command's class in each of its forms.
struct CommandRow {
  std::string_view name;  // "+CMGS", "D", "S3", ...
  std::optional<policy::AtFamily> family;
  Handling action, read, set, test;
  std::string_view check;  // what the mediator does / why (docs/modem.md quotes it)
};
std::span<const CommandRow> command_table();

// The class of one command: the table's row and form, then the conditions the table names
// (MMI dial strings, data calls, +CRSM outside its allow-list, +CMGD <delflag>).
Classification classify(const at::Command& command);

// 27.007 §8.18 +CRSM reads a persona may make: GET RESPONSE / READ BINARY / STATUS of
// files that are the same for both personas and say nothing about either's use.
bool crsm_allowed(const at::Command& command);
// A dial string that starts with '*' or '#' is an MMI / supplementary-service code (22.030):
// call forwarding, barring, PIN changes. It acts on the shared subscription.
bool is_mmi_dial(const at::Command& command);

enum class RefusalReason : std::uint8_t {
  kUnknownCommand,
  kReservedToDom0,
  kFamilyNotAllowed,
  kDialNotAllowed,
  kAnswerNotAllowed,
  kSmsBudgetExhausted,  // the persona's sms_per_hour is spent for now
};
std::string_view to_string(RefusalReason reason) noexcept;

struct Refusal {
  RefusalReason reason{};
  std::size_t command_index = 0;  // which command of the line was refused
  std::optional<policy::AtFamily> family;
};

// The verdict on a whole line: a compound line is forwarded whole or not at all, so a
// refused command can never leave the modem half-configured by the ones before it.
struct LineVerdict {
  std::optional<Refusal> refusal;  // nullopt: allowed
  bool all_local = false;          // nothing to forward: the mediator answers alone
  bool allowed() const noexcept { return !refusal.has_value(); }
};

class CommandPolicy {
 public:
  explicit CommandPolicy(PersonaRights rights) : rights_(std::move(rights)) {}

  std::optional<Refusal> decide(const at::Command& command) const;
  LineVerdict decide(const at::CommandLine& line) const;
  const PersonaRights& rights() const noexcept { return rights_; }

 private:
  PersonaRights rights_;
};

// +CMEE of the persona's virtual modem: how errors are reported to it.
enum class ErrorFormat : std::uint8_t { kPlain = 0, kNumeric = 1, kVerbose = 2 };

// The final result sent for a refusal. Unknown commands get "ERROR" (V.250 §5.2.1);
// the rest "+CME ERROR: 3" / "operation not allowed" (27.007 §9.2.1) or ERROR.
std::string refusal_result(RefusalReason reason, ErrorFormat format);

}  // namespace twofold::modem::mediator
