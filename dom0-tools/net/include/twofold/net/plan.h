#pragma once
// dom0's side of the personas' networks, generated from the checked policy
// (docs/network.md): one bridge per [[persona.network]], dom0's address on it, and the
// nftables ruleset that forwards each persona's packets to what its `reach` grants and
// nothing else (default deny; no persona to persona, to dom0's services or to the host).
// Text out, so that dom0 loads it with the real tools (`ip -batch -`, `nft -f -`) and the
// host tests read exactly what the board loads.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "twofold/policy/address.h"
#include "twofold/policy/policy.h"

namespace twofold::net {

// A persona's link to dom0: the bridge its vif joins and the two ends' addresses.
struct PersonaLink {
  std::string persona;
  policy::PersonaKind kind = policy::PersonaKind::personal;
  std::string bridge;
  policy::Ipv4Prefix subnet;
  std::uint32_t dom0_address = 0;     // first host address: the persona's gateway
  std::uint32_t persona_address = 0;  // second host address: the only source dom0 forwards
  std::optional<policy::Tunnel> tunnel;
  std::vector<std::string> reach;
};

// Every network of the policy with a usable subnet (a checked policy has no other), in
// policy order.
std::vector<PersonaLink> persona_links(const policy::Policy& policy);
// The links of one persona.
std::vector<PersonaLink> persona_links(const policy::Persona& persona);

// dom0's data link (the board profile's data-link file, docs/network.md).
struct Uplink {
  std::string device;                    // e.g. eth0 (lab: virtio-net), wwan0 (QMI modem)
  // A static address and its prefix length, and the default gateway; unset: the link is
  // configured by whatever brings it up (a real modem's QMI/MBIM connection manager).
  std::optional<std::uint32_t> address;
  unsigned prefix_length = 0;
  std::optional<std::uint32_t> gateway;
  // The data link's uplink rate in kbit/s (board profile DATA_LINK_UPLINK_KBIT), set at or a
  // little below what the link carries so that the queue forms in dom0's shaper, where the
  // secure persona's share is enforced, and not in the modem; unset: no shaping.
  std::optional<std::uint32_t> uplink_kbit;
};

// dom0's shaper on the data link (docs/network.md, "Fair sharing"): HTB at the uplink rate,
// one class for the secure personas' links (guaranteed kSecureSharePercent of the rate,
// first to borrow the rest) and one for everything else, fq_codel in each. The nftables
// forward rules of a secure link put its packets in the first class (`meta priority`).
inline constexpr std::uint32_t kSecureSharePercent = 50;
inline constexpr std::string_view kSecureClass = "1:10";
inline constexpr std::string_view kOtherClass = "1:20";

// Kernel command-line words that tell a persona its address on a link
// (`twofold.ip=A/N twofold.gw=G`, read by the guests' network setup).
std::string guest_cmdline(const PersonaLink& link);

// `ip -batch` commands: the bridges with dom0's addresses, and the uplink when static.
std::string ip_batch(const policy::Policy& policy, const Uplink& uplink);

// `tc -batch` commands for the shaper; only a comment when the uplink has no rate.
std::string tc_batch(const Uplink& uplink);

// The nftables ruleset (for `nft -f`): replaces the whole ruleset.
std::string nft_ruleset(const policy::Policy& policy, const Uplink& uplink);

// Interface names as the kernel takes them (1-15 of [A-Za-z0-9._-], not "." or "..").
bool is_interface_name(std::string_view name);

}  // namespace twofold::net
