#pragma once
// IPv4 prefixes as the policy's network plan uses them (subnets, reach, the organisation).
// Parsed with inet_pton; one type so that the checker's overlap rules and dom0's filter
// generator (dom0-tools/net) read a prefix the same way.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace twofold::policy {

struct Ipv4Prefix {
  std::uint32_t address = 0;  // host byte order, host bits cleared
  unsigned length = 0;        // 0-32

  // "a.b.c.d/n". nullopt for anything else, IPv6 included. `strict`: host bits must be zero.
  static std::optional<Ipv4Prefix> parse(std::string_view text, bool strict = true);

  std::uint32_t mask() const noexcept { return length == 0 ? 0 : ~std::uint32_t{0} << (32 - length); }
  bool contains(const Ipv4Prefix& other) const noexcept {
    return other.length >= length && (other.address & mask()) == address;
  }
  bool overlaps(const Ipv4Prefix& other) const noexcept { return contains(other) || other.contains(*this); }
  // The n-th address of the prefix (1 = first host address); no range check.
  std::uint32_t host(std::uint32_t n) const noexcept { return address + n; }
  std::string str() const;
};

std::string format_ipv4(std::uint32_t address);

}  // namespace twofold::policy
