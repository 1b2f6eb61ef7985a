#include "twofold/modem/sim/sim_files.h"

#include <algorithm>

namespace twofold::modem::sim {
namespace {

// Swapped BCD, 'F' filler (TS 51.011 §10.5.1); '*' '#' are 0xA and 0xB.
std::vector<std::uint8_t> bcd(std::string_view digits) {
  auto nibble = [](char c) -> std::uint8_t {
    if (c >= '0' && c <= '9') return static_cast<std::uint8_t>(c - '0');
    if (c == '*') return 0xA;
    if (c == '#') return 0xB;
    return 0xF;
  };
  std::vector<std::uint8_t> out;
  for (std::size_t i = 0; i < digits.size(); i += 2) {
    const std::uint8_t low = nibble(digits[i]);
    const std::uint8_t high = i + 1 < digits.size() ? nibble(digits[i + 1]) : 0xF;
    out.push_back(static_cast<std::uint8_t>(high << 4 | low));
  }
  return out;
}

}  // namespace

std::vector<std::uint8_t> ef_sms_record(std::uint8_t status, const std::vector<std::uint8_t>& pdu) {
  // Filled in place (GCC 12 -O2 warns, wrongly, about inserting after a one-byte vector).
  std::vector<std::uint8_t> out(kEfSmsRecordLength, 0xFF);
  out[0] = status;
  const std::size_t n = std::min(pdu.size(), kEfSmsRecordLength - 1);
  for (std::size_t i = 0; i < n; ++i) out[1 + i] = pdu[i];
  return out;
}

std::vector<std::uint8_t> ef_sms_free_record() {
  std::vector<std::uint8_t> out(kEfSmsRecordLength, 0xFF);
  out[0] = 0x00;
  return out;
}

std::vector<std::uint8_t> ef_adn_record(std::string_view number, std::string_view text) {
  std::vector<std::uint8_t> out(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(std::min(text.size(), kEfAdnAlphaLength)));
  out.resize(kEfAdnAlphaLength, 0xFF);
  const bool international = !number.empty() && number.front() == '+';
  std::vector<std::uint8_t> digits = bcd(international ? number.substr(1) : number);
  digits.resize(std::min<std::size_t>(digits.size(), 10));
  out.push_back(static_cast<std::uint8_t>(digits.size() + 1));
  out.push_back(international ? 0x91 : 0x81);
  out.insert(out.end(), digits.begin(), digits.end());
  out.resize(kEfAdnRecordLength - 2, 0xFF);
  out.push_back(0xFF);  // capability/configuration
  out.push_back(0xFF);  // extension
  return out;
}

std::vector<std::uint8_t> ef_adn_free_record() { return std::vector<std::uint8_t>(kEfAdnRecordLength, 0xFF); }

std::optional<std::vector<std::uint8_t>> ef_transparent(std::uint32_t file_id, std::string_view operator_name) {
  if (file_id == kEfIccid) return bcd("89490000000000001234");
  if (file_id == kEfAd) return std::vector<std::uint8_t>{0x00, 0x00, 0x00, 0x02};
  if (file_id == kEfSpn) {
    std::vector<std::uint8_t> out(17, 0xFF);
    out[0] = 0x01;  // display condition
    for (std::size_t i = 0; i < operator_name.size() && i + 1 < out.size(); ++i) out[1 + i] = static_cast<std::uint8_t>(operator_name[i]);
    return out;
  }
  return std::nullopt;
}

std::optional<std::vector<std::uint8_t>> from_hex(std::string_view hex) {
  if (hex.size() % 2 != 0) return std::nullopt;
  auto value = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::vector<std::uint8_t> out;
  for (std::size_t i = 0; i < hex.size(); i += 2) {
    const int high = value(hex[i]), low = value(hex[i + 1]);
    if (high < 0 || low < 0) return std::nullopt;
    out.push_back(static_cast<std::uint8_t>(high << 4 | low));
  }
  return out;
}

}  // namespace twofold::modem::sim
