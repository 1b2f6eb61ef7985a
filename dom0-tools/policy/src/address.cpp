#include "twofold/policy/address.h"

#include <arpa/inet.h>

#include <charconv>

namespace twofold::policy {

std::optional<Ipv4Prefix> Ipv4Prefix::parse(std::string_view text, bool strict) {
  const auto slash = text.find('/');
  if (slash == std::string_view::npos || slash > INET_ADDRSTRLEN) return std::nullopt;
  const std::string address(text.substr(0, slash));
  const std::string_view bits_text = text.substr(slash + 1);
  unsigned bits = 0;
  const auto [end, ec] = std::from_chars(bits_text.data(), bits_text.data() + bits_text.size(), bits);
  if (bits_text.empty() || ec != std::errc{} || end != bits_text.data() + bits_text.size() || bits > 32) {
    return std::nullopt;
  }
  in_addr parsed{};
  if (inet_pton(AF_INET, address.c_str(), &parsed) != 1) return std::nullopt;
  Ipv4Prefix prefix;
  prefix.length = bits;
  const std::uint32_t value = ntohl(parsed.s_addr);
  prefix.address = value & prefix.mask();
  if (strict && prefix.address != value) return std::nullopt;
  return prefix;
}

std::string format_ipv4(std::uint32_t address) {
  return std::to_string(address >> 24) + "." + std::to_string((address >> 16) & 0xff) + "." +
         std::to_string((address >> 8) & 0xff) + "." + std::to_string(address & 0xff);
}

std::string Ipv4Prefix::str() const { return format_ipv4(address) + "/" + std::to_string(length); }

}  // namespace twofold::policy
