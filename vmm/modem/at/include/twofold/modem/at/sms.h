#pragma once
// SMS bodies as typed after the "> " prompt (3GPP TS 27.005 §3.5.1 / §4.3).
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "twofold/modem/at/errors.h"

namespace twofold::modem::at {

inline constexpr char kSubmitByte = '\x1a';  // Ctrl-Z: send the body
inline constexpr char kCancelByte = '\x1b';  // ESC: abandon it

struct SmsText {
  std::string text;  // as typed, line breaks included, terminator excluded
  bool operator==(const SmsText&) const = default;
};

struct SmsPdu {
  std::vector<std::uint8_t> smsc;  // SMSC address octets after its length octet (may be empty)
  std::vector<std::uint8_t> tpdu;  // TS 23.040 TPDU; size equals the <length> parameter
  bool operator==(const SmsPdu&) const = default;
};

// Decodes and checks a PDU-mode body: hex digits only, even count, an SMSC part whose length
// octet fits, and a TPDU of exactly tpdu_length octets (27.005: <length> excludes the SMSC).
Result<SmsPdu> parse_pdu_hex(std::string_view untrusted_hex, std::size_t tpdu_length);
// The same without a <length> to compare against (bodies read back from the modem).
Result<SmsPdu> parse_pdu_hex(std::string_view untrusted_hex);

std::string to_hex(const SmsPdu& pdu);

}  // namespace twofold::modem::at
