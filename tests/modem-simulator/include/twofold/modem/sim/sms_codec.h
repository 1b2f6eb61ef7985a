#pragma once
// Just enough of TS 23.040 / 23.038 for the simulator: SMS-DELIVER and SMS-SUBMIT TPDUs
// with the GSM 7-bit default alphabet (ASCII subset), and SUBMIT decoding for what a DTE
// sends in PDU mode (7-bit, 8-bit and UCS2 user data).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace twofold::modem::sim {

inline constexpr std::size_t kMaxSeptets = 160;

struct SubmitPdu {
  std::uint8_t reference = 0;
  std::string destination;  // "+4930..." for international numbers
  std::string text;         // 7-bit decoded; 8-bit as hex; UCS2 as UTF-8
};

// ASCII text -> GSM 7-bit septets (characters outside the alphabet become '?').
std::vector<std::uint8_t> to_gsm7(std::string_view text);
std::string from_gsm7(const std::vector<std::uint8_t>& septets);

std::vector<std::uint8_t> pack_septets(const std::vector<std::uint8_t>& septets);

// "+4930123" -> TP-address (length in digits, type 0x91/0x81, swapped BCD).
std::vector<std::uint8_t> encode_address(std::string_view number);
// The SMSC part of a PDU: length octet, type, swapped BCD.
std::vector<std::uint8_t> encode_smsc(std::string_view number);

// timestamp is "yy/MM/dd,hh:mm:ss+zz" (27.005 text-mode <scts>).
std::vector<std::uint8_t> encode_deliver(std::string_view originator, std::string_view text,
                                         std::string_view timestamp);
std::vector<std::uint8_t> encode_submit(std::string_view destination, std::string_view text,
                                        std::uint8_t reference);

// nullopt for anything that is not a well-formed SMS-SUBMIT.
std::optional<SubmitPdu> decode_submit(const std::vector<std::uint8_t>& tpdu);

std::string hex(const std::vector<std::uint8_t>& octets);

}  // namespace twofold::modem::sim
