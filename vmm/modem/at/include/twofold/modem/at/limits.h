#pragma once
// Every bound the AT parsers enforce. A guest or a misbehaving modem can make us buffer at
// most these many bytes per stream; anything longer is discarded and reported.
#include <cstddef>

namespace twofold::modem::at {

// 3GPP TS 27.007 §4.1 requires a TA to accept command lines of at least 556 characters
// (after the AT prefix). 560 covers the prefix and every compliant client, and no more.
inline constexpr std::size_t kMaxCommandLineLength = 560;
// V.250 §5.4.1: extended command names are at most 16 characters after the prefix.
inline constexpr std::size_t kMaxCommandNameLength = 16;
// No 27.007/27.005 command takes more; bounds the per-command vector a guest can grow.
inline constexpr std::size_t kMaxParameters = 32;
// E.164 numbers have at most 15 digits; the rest is room for modifiers and DTMF.
inline constexpr std::size_t kMaxDialStringLength = 64;
// Highest S-register number V.250 defines a meaning for is well below this; one byte.
inline constexpr std::size_t kMaxSRegister = 255;

// Text-mode SMS body (27.005 §3.5.1): 160 GSM characters, or 140 octets as 280 hex digits
// (UCS2/HEX character sets), plus room for line breaks typed into the body.
inline constexpr std::size_t kMaxSmsTextBodyLength = 320;
// PDU mode (27.005 §3.5.1, TS 24.011 / 23.040): SMSC part is one length octet plus at most
// 11 address octets; an SMS-SUBMIT TPDU is at most 164 octets.
inline constexpr std::size_t kMaxSmscOctets = 12;
inline constexpr std::size_t kMaxTpduOctets = 164;
inline constexpr std::size_t kMaxPduHexLength = 2 * (kMaxSmscOctets + kMaxTpduOctets);

// Modem side: +COPS=? and +CPBR lists are the longest legitimate lines.
inline constexpr std::size_t kMaxResponseLineLength = 2048;
inline constexpr std::size_t kMaxResponseFields = 64;
// Parenthesised groups in test responses ("(0-4)", "(2,\"Op\",...)") nest at most this deep.
inline constexpr std::size_t kMaxResponseNesting = 4;

}  // namespace twofold::modem::at
