#include "lexing.h"
#include "twofold/modem/at/limits.h"
#include "twofold/modem/at/sms.h"

namespace twofold::modem::at {
namespace {

Result<std::vector<std::uint8_t>> decode_hex(std::string_view hex) {
  if (hex.size() > kMaxPduHexLength) return ParseError{ErrorReason::kBodyTooLong, kMaxPduHexLength};
  if (hex.size() % 2 != 0) return ParseError{ErrorReason::kInvalidPdu, hex.size()};
  std::vector<std::uint8_t> octets;
  octets.reserve(hex.size() / 2);
  for (std::size_t i = 0; i < hex.size(); i += 2) {
    const int high = detail::hex_value(hex[i]);
    const int low = detail::hex_value(hex[i + 1]);
    if (high < 0) return ParseError{ErrorReason::kInvalidBodyCharacter, i};
    if (low < 0) return ParseError{ErrorReason::kInvalidBodyCharacter, i + 1};
    octets.push_back(static_cast<std::uint8_t>(high * 16 + low));
  }
  return octets;
}

}  // namespace

Result<SmsPdu> parse_pdu_hex(std::string_view untrusted_hex) {
  auto octets = decode_hex(untrusted_hex);
  if (!octets) return octets.error();
  const std::vector<std::uint8_t>& bytes = octets.value();
  if (bytes.empty()) return ParseError{ErrorReason::kInvalidPdu, 0};
  // TS 24.011 §8.2.5.1: the SMSC length octet counts the octets after it (0 = default SMSC).
  const std::size_t smsc_length = bytes[0];
  if (smsc_length + 1 > kMaxSmscOctets || smsc_length + 1 > bytes.size()) {
    return ParseError{ErrorReason::kInvalidPdu, 0};
  }
  SmsPdu pdu;
  const auto tpdu_start = bytes.begin() + static_cast<std::ptrdiff_t>(smsc_length + 1);
  pdu.smsc.assign(bytes.begin() + 1, tpdu_start);
  pdu.tpdu.assign(tpdu_start, bytes.end());
  if (pdu.tpdu.empty() || pdu.tpdu.size() > kMaxTpduOctets) {
    return ParseError{ErrorReason::kInvalidPdu, 2 * (smsc_length + 1)};
  }
  return pdu;
}

Result<SmsPdu> parse_pdu_hex(std::string_view untrusted_hex, std::size_t tpdu_length) {
  auto pdu = parse_pdu_hex(untrusted_hex);
  if (!pdu) return pdu;
  if (pdu.value().tpdu.size() != tpdu_length) {
    return ParseError{ErrorReason::kPduLengthMismatch, untrusted_hex.size()};
  }
  return pdu;
}

std::string to_hex(const SmsPdu& pdu) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(2 * (1 + pdu.smsc.size() + pdu.tpdu.size()));
  auto put = [&](std::uint8_t octet) {
    out.push_back(kHex[octet >> 4]);
    out.push_back(kHex[octet & 0x0f]);
  };
  put(static_cast<std::uint8_t>(pdu.smsc.size()));
  for (const auto octet : pdu.smsc) put(octet);
  for (const auto octet : pdu.tpdu) put(octet);
  return out;
}

}  // namespace twofold::modem::at
