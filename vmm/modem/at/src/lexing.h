#pragma once
// Character-level helpers shared by the command and response parsers (internal).
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

#include "twofold/modem/at/errors.h"

namespace twofold::modem::at::detail {

constexpr bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }
constexpr bool is_alpha(char c) noexcept { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }
constexpr char to_upper(char c) noexcept {
  return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c;
}
constexpr bool is_control(char c) noexcept {
  const auto byte = static_cast<unsigned char>(c);
  return byte < 0x20 || byte == 0x7f;
}
constexpr int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}
// Prefixes of extended commands and responses: '+' (V.250) and the vendor ones in use.
constexpr bool is_extended_prefix(char c) noexcept {
  return c == '+' || c == '^' || c == '%' || c == '$' || c == '#' || c == '*';
}

// text[pos] is the opening quote. On success pos is just past the closing quote. Escapes
// are "\hh" (27.007 §4.1); anything else after '\' is an error, not a literal.
inline Result<std::string> parse_quoted(std::string_view text, std::size_t& pos) {
  const std::size_t start = pos;
  std::string out;
  std::size_t i = pos + 1;
  while (i < text.size()) {
    const char c = text[i];
    if (c == '"') {
      pos = i + 1;
      return out;
    }
    if (c == '\\') {
      if (text.size() - i < 3) {  // need '\' and two digits
        return ParseError{ErrorReason::kInvalidEscape, i};
      }
      const int high = hex_value(text[i + 1]);
      const int low = hex_value(text[i + 2]);
      if (high < 0 || low < 0) return ParseError{ErrorReason::kInvalidEscape, i};
      out.push_back(static_cast<char>(high * 16 + low));
      i += 3;
      continue;
    }
    out.push_back(c);
    ++i;
  }
  return ParseError{ErrorReason::kUnterminatedString, start};
}

// Decimal digits at text[pos] (at least one). Values above 2^32-1 are refused rather than
// wrapped, however many digits a peer sends.
inline Result<std::uint32_t> parse_decimal(std::string_view text, std::size_t& pos) {
  const std::size_t start = pos;
  std::uint64_t value = 0;
  while (pos < text.size() && is_digit(text[pos])) {
    value = value * 10 + static_cast<std::uint64_t>(text[pos] - '0');
    if (value > std::numeric_limits<std::uint32_t>::max()) {
      return ParseError{ErrorReason::kNumberOutOfRange, start};
    }
    ++pos;
  }
  if (pos == start) return ParseError{ErrorReason::kUnexpectedCharacter, start};
  return static_cast<std::uint32_t>(value);
}

}  // namespace twofold::modem::at::detail
