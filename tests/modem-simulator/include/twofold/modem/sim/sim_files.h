#pragma once
// The SIM's elementary files as +CRSM / +CSIM read them (TS 31.102 §4.2, TS 51.011 §10.5):
// just enough to show what a persona would read off a shared SIM. Pure encoders, no state.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace twofold::modem::sim {

inline constexpr std::uint32_t kEfIccid = 0x2FE2;
inline constexpr std::uint32_t kEfAd = 0x6FAD;
inline constexpr std::uint32_t kEfSpn = 0x6F46;
inline constexpr std::uint32_t kEfSms = 0x6F3C;
inline constexpr std::uint32_t kEfAdn = 0x6F3A;
inline constexpr std::uint32_t kEfLnd = 0x6F44;

inline constexpr std::size_t kEfSmsRecordLength = 176;
inline constexpr std::size_t kEfAdnAlphaLength = 14;
inline constexpr std::size_t kEfAdnRecordLength = kEfAdnAlphaLength + 14;

// EF_SMS record: status (0x01 read, 0x03 unread, 0x05 sent, 0x07 unsent; 0x00 free), then
// SMSC part and TPDU, padded with 0xFF.
std::vector<std::uint8_t> ef_sms_record(std::uint8_t status, const std::vector<std::uint8_t>& pdu);
std::vector<std::uint8_t> ef_sms_free_record();
// EF_ADN / EF_LND record: alpha identifier, BCD number length, TON/NPI, BCD digits, CCP, ext.
std::vector<std::uint8_t> ef_adn_record(std::string_view number, std::string_view text);
std::vector<std::uint8_t> ef_adn_free_record();
// Transparent files the simulator's SIM has (nullopt: not there).
std::optional<std::vector<std::uint8_t>> ef_transparent(std::uint32_t file_id, std::string_view operator_name);

std::optional<std::vector<std::uint8_t>> from_hex(std::string_view hex);

}  // namespace twofold::modem::sim
