#pragma once
// One parameter of an extended command or one field of a modem response.
#include <cstdint>
#include <string>
#include <string_view>

namespace twofold::modem::at {

struct Parameter {
  enum class Type : std::uint8_t {
    kEmpty,   // omitted ("AT+CMGL=,1" or trailing ",")
    kNumber,  // decimal numeric constant
    kString,  // quoted string, escapes already decoded
    kToken,   // unquoted text; only modem responses produce it ("READY", "(0-4)")
  };
  Type type = Type::kEmpty;
  std::uint32_t number = 0;
  std::string text;

  static Parameter empty() { return {}; }
  static Parameter of_number(std::uint32_t value) { return {Type::kNumber, value, {}}; }
  static Parameter of_string(std::string value) { return {Type::kString, 0, std::move(value)}; }
  static Parameter of_token(std::string value) { return {Type::kToken, 0, std::move(value)}; }

  bool is_empty() const noexcept { return type == Type::kEmpty; }
  bool is_number() const noexcept { return type == Type::kNumber; }
  bool is_string() const noexcept { return type == Type::kString; }
  bool operator==(const Parameter&) const = default;
};

// Quotes a string for an AT line per 27.007 §4.1: '"', '\\' and control bytes become \hh,
// so a value taken from one party can never close the string or end the line.
std::string quote_string(std::string_view value);

}  // namespace twofold::modem::at
