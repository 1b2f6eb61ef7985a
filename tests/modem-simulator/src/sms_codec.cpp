#include "twofold/modem/sim/sms_codec.h"

#include <array>

namespace twofold::modem::sim {
namespace {

constexpr std::uint8_t kEscape = 0x1b;

struct ExtensionChar {
  char ascii;
  std::uint8_t code;
};
// TS 23.038 §6.2.1.1 extension table entries that have an ASCII equivalent.
constexpr std::array kExtension = {
    ExtensionChar{'^', 0x14}, ExtensionChar{'{', 0x28}, ExtensionChar{'}', 0x29},
    ExtensionChar{'\\', 0x2f}, ExtensionChar{'[', 0x3c}, ExtensionChar{'~', 0x3d},
    ExtensionChar{']', 0x3e}, ExtensionChar{'|', 0x40},
};

// Positions where the default alphabet and ASCII agree.
bool same_as_ascii(std::uint8_t c) {
  return c == '\n' || c == '\r' || (c >= 0x20 && c <= 0x5a && c != 0x24) || (c >= 0x61 && c <= 0x7a);
}

void append_bcd(std::vector<std::uint8_t>& out, std::string_view digits) {
  for (std::size_t i = 0; i < digits.size(); i += 2) {
    const auto low = static_cast<std::uint8_t>(digits[i] - '0');
    const auto high = i + 1 < digits.size() ? static_cast<std::uint8_t>(digits[i + 1] - '0')
                                            : std::uint8_t{0x0f};
    out.push_back(static_cast<std::uint8_t>((high << 4) | low));
  }
}

std::string digits_of(std::string_view number) {
  std::string digits;
  for (const char c : number) {
    if (c >= '0' && c <= '9') digits.push_back(c);
  }
  return digits;
}

std::vector<std::uint8_t> unpack_septets(const std::vector<std::uint8_t>& octets, std::size_t offset_bits,
                                         std::size_t count) {
  std::vector<std::uint8_t> septets;
  for (std::size_t i = 0; i < count; ++i) {
    const std::size_t bit = offset_bits + i * 7;
    const std::size_t byte = bit / 8;
    const std::size_t shift = bit % 8;
    if (byte >= octets.size()) break;
    unsigned value = octets[byte] >> shift;
    if (shift > 1 && byte + 1 < octets.size()) value |= static_cast<unsigned>(octets[byte + 1]) << (8 - shift);
    septets.push_back(static_cast<std::uint8_t>(value & 0x7f));
  }
  return septets;
}

void append_utf8(std::string& out, unsigned code) {
  if (code < 0x80) {
    out.push_back(static_cast<char>(code));
  } else if (code < 0x800) {
    out.push_back(static_cast<char>(0xc0 | (code >> 6)));
    out.push_back(static_cast<char>(0x80 | (code & 0x3f)));
  } else {
    out.push_back(static_cast<char>(0xe0 | (code >> 12)));
    out.push_back(static_cast<char>(0x80 | ((code >> 6) & 0x3f)));
    out.push_back(static_cast<char>(0x80 | (code & 0x3f)));
  }
}

void append_timestamp(std::vector<std::uint8_t>& out, std::string_view timestamp) {
  // "yy/MM/dd,hh:mm:ss+zz": six two-digit fields and the zone in quarter hours.
  std::string digits = digits_of(timestamp);
  digits.resize(14, '0');
  for (std::size_t i = 0; i < 14; i += 2) {
    out.push_back(static_cast<std::uint8_t>(((digits[i + 1] - '0') << 4) | (digits[i] - '0')));
  }
}

}  // namespace

std::vector<std::uint8_t> to_gsm7(std::string_view text) {
  std::vector<std::uint8_t> septets;
  for (const char ch : text) {
    const auto c = static_cast<std::uint8_t>(ch);
    if (c == '@') {
      septets.push_back(0x00);
    } else if (c == '$') {
      septets.push_back(0x02);
    } else if (c == '_') {
      septets.push_back(0x11);
    } else if (same_as_ascii(c)) {
      septets.push_back(c);
    } else {
      bool found = false;
      for (const auto& ext : kExtension) {
        if (ext.ascii == ch) {
          septets.push_back(kEscape);
          septets.push_back(ext.code);
          found = true;
        }
      }
      if (!found) septets.push_back('?');
    }
  }
  return septets;
}

std::string from_gsm7(const std::vector<std::uint8_t>& septets) {
  std::string text;
  for (std::size_t i = 0; i < septets.size(); ++i) {
    const std::uint8_t c = septets[i];
    if (c == kEscape && i + 1 < septets.size()) {
      const std::uint8_t code = septets[++i];
      char ascii = '?';
      for (const auto& ext : kExtension) {
        if (ext.code == code) ascii = ext.ascii;
      }
      text.push_back(ascii);
    } else if (c == 0x00) {
      text.push_back('@');
    } else if (c == 0x02) {
      text.push_back('$');
    } else if (c == 0x11) {
      text.push_back('_');
    } else if (same_as_ascii(c)) {
      text.push_back(static_cast<char>(c));
    } else {
      text.push_back('?');
    }
  }
  return text;
}

std::vector<std::uint8_t> pack_septets(const std::vector<std::uint8_t>& septets) {
  std::vector<std::uint8_t> octets((septets.size() * 7 + 7) / 8, 0);
  for (std::size_t i = 0; i < septets.size(); ++i) {
    const std::size_t bit = i * 7;
    const std::size_t byte = bit / 8;
    const std::size_t shift = bit % 8;
    octets[byte] = static_cast<std::uint8_t>(octets[byte] | ((septets[i] & 0x7f) << shift));
    if (shift > 1) {
      octets[byte + 1] = static_cast<std::uint8_t>(octets[byte + 1] | ((septets[i] & 0x7f) >> (8 - shift)));
    }
  }
  return octets;
}

std::vector<std::uint8_t> encode_address(std::string_view number) {
  const std::string digits = digits_of(number);
  std::vector<std::uint8_t> out;
  out.push_back(static_cast<std::uint8_t>(digits.size()));
  out.push_back(number.starts_with("+") ? 0x91 : 0x81);
  append_bcd(out, digits);
  return out;
}

std::vector<std::uint8_t> encode_smsc(std::string_view number) {
  const std::string digits = digits_of(number);
  std::vector<std::uint8_t> out;
  out.push_back(static_cast<std::uint8_t>(1 + (digits.size() + 1) / 2));
  out.push_back(number.starts_with("+") ? 0x91 : 0x81);
  append_bcd(out, digits);
  return out;
}

std::vector<std::uint8_t> encode_deliver(std::string_view originator, std::string_view text,
                                         std::string_view timestamp) {
  std::vector<std::uint8_t> septets = to_gsm7(text);
  if (septets.size() > kMaxSeptets) septets.resize(kMaxSeptets);
  std::vector<std::uint8_t> tpdu{0x04};  // SMS-DELIVER, no more messages waiting
  const auto address = encode_address(originator);
  tpdu.insert(tpdu.end(), address.begin(), address.end());
  tpdu.push_back(0x00);  // PID
  tpdu.push_back(0x00);  // DCS: default alphabet
  append_timestamp(tpdu, timestamp);
  tpdu.push_back(static_cast<std::uint8_t>(septets.size()));
  const auto packed = pack_septets(septets);
  tpdu.insert(tpdu.end(), packed.begin(), packed.end());
  return tpdu;
}

std::vector<std::uint8_t> encode_submit(std::string_view destination, std::string_view text,
                                        std::uint8_t reference) {
  std::vector<std::uint8_t> septets = to_gsm7(text);
  if (septets.size() > kMaxSeptets) septets.resize(kMaxSeptets);
  std::vector<std::uint8_t> tpdu{0x01, reference};  // SMS-SUBMIT, no validity period
  const auto address = encode_address(destination);
  tpdu.insert(tpdu.end(), address.begin(), address.end());
  tpdu.push_back(0x00);
  tpdu.push_back(0x00);
  tpdu.push_back(static_cast<std::uint8_t>(septets.size()));
  const auto packed = pack_septets(septets);
  tpdu.insert(tpdu.end(), packed.begin(), packed.end());
  return tpdu;
}

std::optional<SubmitPdu> decode_submit(const std::vector<std::uint8_t>& tpdu) {
  std::size_t pos = 0;
  auto next = [&]() -> std::optional<std::uint8_t> {
    if (pos >= tpdu.size()) return std::nullopt;
    return tpdu[pos++];
  };
  const auto first = next();
  if (!first || (*first & 0x03) != 0x01) return std::nullopt;
  const bool has_header = (*first & 0x40) != 0;
  const unsigned validity_format = (*first >> 3) & 0x03;
  SubmitPdu result;
  const auto reference = next();
  const auto digit_count = next();
  const auto type = next();
  if (!reference || !digit_count || !type || *digit_count > 20) return std::nullopt;
  result.reference = *reference;
  if (*type == 0x91) result.destination.push_back('+');
  for (unsigned i = 0; i < (*digit_count + 1u) / 2; ++i) {
    const auto octet = next();
    if (!octet) return std::nullopt;
    const unsigned low = *octet & 0x0f;
    const unsigned high = *octet >> 4;
    if (low > 9) return std::nullopt;
    result.destination.push_back(static_cast<char>('0' + low));
    if (2 * i + 1 < *digit_count) {
      if (high > 9) return std::nullopt;
      result.destination.push_back(static_cast<char>('0' + high));
    }
  }
  const auto pid = next();
  const auto dcs = next();
  if (!pid || !dcs) return std::nullopt;
  pos += validity_format == 2 ? 1 : (validity_format == 0 ? 0 : 7);
  const auto length = next();
  if (!length) return std::nullopt;
  const std::vector<std::uint8_t> data(tpdu.begin() + static_cast<std::ptrdiff_t>(std::min(pos, tpdu.size())),
                                       tpdu.end());
  const unsigned alphabet = (*dcs & 0xc0) == 0 ? ((*dcs >> 2) & 0x03) : 0;
  std::size_t header_octets = 0;
  if (has_header) {
    if (data.empty() || data[0] + 1u > data.size()) return std::nullopt;
    header_octets = data[0] + 1u;
  }
  if (alphabet == 0) {
    if (*length > kMaxSeptets || (*length * 7u + 7) / 8 > data.size()) return std::nullopt;
    const std::size_t header_septets = (header_octets * 8 + 6) / 7;
    if (header_septets > *length) return std::nullopt;
    result.text = from_gsm7(unpack_septets(data, header_septets * 7, *length - header_septets));
    return result;
  }
  if (*length > data.size() || header_octets > *length) return std::nullopt;
  const std::vector<std::uint8_t> body(data.begin() + static_cast<std::ptrdiff_t>(header_octets),
                                       data.begin() + *length);
  if (alphabet == 2) {
    for (std::size_t i = 0; i + 1 < body.size(); i += 2) append_utf8(result.text, (body[i] << 8u) | body[i + 1]);
  } else {
    result.text = hex(body);
  }
  return result;
}

std::string hex(const std::vector<std::uint8_t>& octets) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (const auto octet : octets) {
    out.push_back(kHex[octet >> 4]);
    out.push_back(kHex[octet & 0x0f]);
  }
  return out;
}

}  // namespace twofold::modem::sim
