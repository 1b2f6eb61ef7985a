#pragma once
// The typed error every AT parser returns instead of throwing on bad input.
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <utility>
#include <variant>

namespace twofold::modem::at {

enum class ErrorReason : std::uint8_t {
  kLineTooLong,          // more than kMaxCommandLineLength / kMaxResponseLineLength bytes
  kMissingPrefix,        // a command line not starting with "AT"
  kControlCharacter,     // NUL or another control byte inside a line
  kUnexpectedCharacter,  // a byte that no syntax element accepts here
  kNameTooLong,          // extended command name longer than kMaxCommandNameLength
  kUnterminatedString,   // quoted string without its closing quote
  kInvalidEscape,        // '\' not followed by two hex digits
  kNumberOutOfRange,     // numeric constant above 2^32-1 (or S-register above 255)
  kUnquotedString,       // a string parameter without quotes
  kTooManyParameters,    // more than kMaxParameters
  kMissingSeparator,     // an extended command followed by another without ';'
  kInvalidDialString,    // empty, misplaced '+', unsupported character
  kDialStringTooLong,    // more than kMaxDialStringLength
  kBodyTooLong,          // SMS body above kMaxSmsTextBodyLength / kMaxPduHexLength
  kInvalidBodyCharacter, // control byte in a text body, non-hex byte in a PDU body
  kInvalidPdu,           // odd number of hex digits, SMSC part inconsistent
  kPduLengthMismatch,    // TPDU octets differ from the +CMGS/+CMGW <length>
  kInvalidPduLength,     // +CMGS/+CMGW <length> outside 1..kMaxTpduOctets
  kMalformedResponse,    // a response line whose structure cannot be parsed
};

std::string_view to_string(ErrorReason reason) noexcept;

struct ParseError {
  ErrorReason reason{};
  std::size_t offset = 0;  // byte offset in the line (or body) where the problem was seen
  bool operator==(const ParseError&) const = default;
};

// A value or a ParseError. (std::expected is C++23; this is the subset we need.)
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : state_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit by design
  Result(ParseError error) : state_(std::in_place_index<1>, error) {}   // NOLINT
  bool ok() const noexcept { return state_.index() == 0; }
  explicit operator bool() const noexcept { return ok(); }
  const T& value() const& { return std::get<0>(state_); }
  T& value() & { return std::get<0>(state_); }
  T&& value() && { return std::get<0>(std::move(state_)); }
  const ParseError& error() const { return std::get<1>(state_); }

 private:
  std::variant<T, ParseError> state_;
};

}  // namespace twofold::modem::at
