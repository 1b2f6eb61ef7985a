#pragma once
// Lines from the physical modem: final result codes, information responses and unsolicited
// result codes (V.250 §5.7, 27.007 §9, 27.005 §3). The modem is untrusted input as well.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "twofold/modem/at/parameter.h"

namespace twofold::modem::at {

enum class ResponseKind : std::uint8_t {
  kFinal,        // ends the command in flight
  kInformation,  // belongs to the command in flight
  kUnsolicited,  // URC: belongs to no command
  kPrompt,       // "> " after +CMGS/+CMGW
  kEcho,         // the modem echoing the command line in flight
  kUnexpected,   // neither: e.g. "OK" with no command in flight
};

enum class FinalCode : std::uint8_t {
  kOk, kConnect, kNoCarrier, kError, kNoDialtone, kBusy, kNoAnswer, kCmeError, kCmsError,
};

std::string_view to_string(ResponseKind kind) noexcept;
std::string_view to_string(FinalCode code) noexcept;

struct FinalResult {
  FinalCode code = FinalCode::kOk;
  std::optional<std::uint32_t> error_number;  // "+CME ERROR: 10"
  std::string text;                           // "+CME ERROR: SIM not inserted", "CONNECT 9600"
  bool operator==(const FinalResult&) const = default;
};

// What the caller knows about the physical line when a response arrives. The same text can
// mean different things: "+CREG: 1" answers "AT+CREG?" but is a URC at any other time.
struct ResponseContext {
  bool command_in_flight = false;
  std::string command_name;  // upper case, as in Command::name ("+CREG", "D"); may be empty
  std::string echo;          // the raw command line sent, to recognise an echo (may be empty)
  bool expect_prompt = false;  // +CMGS/+CMGW sent: a "> " without terminator is the prompt
};

struct ResponseLine {
  ResponseKind kind = ResponseKind::kUnexpected;
  std::string raw;   // without <CR><LF>
  std::string name;  // "+CREG", "RING", "OK", "NO CARRIER"; empty for plain text
  std::vector<Parameter> fields;  // after "NAME: "; tolerant parse
  bool fields_valid = true;       // false: fields could not be parsed, use raw
  std::optional<FinalResult> final;
  std::optional<std::string> body;  // the line after +CMT/+CMGR/+CMGL/+CBM/+CDS headers
  bool operator==(const ResponseLine&) const = default;
};

// Classifies one complete line (no terminator) in the given context. Body lines are handled
// by ResponseStream, which knows which header came before.
ResponseLine classify_response_line(std::string_view untrusted_line, const ResponseContext& context);

// "NAME: a,1,\"b\"" -> fields. Tolerant of tokens and parenthesised groups; nullopt when the
// text is structurally broken (unterminated quote, too many fields or nesting).
std::optional<std::vector<Parameter>> parse_response_fields(std::string_view untrusted_text);

// True when a header of this name is followed by a body line (text or PDU).
bool has_body_line(const ResponseLine& header) noexcept;

}  // namespace twofold::modem::at
