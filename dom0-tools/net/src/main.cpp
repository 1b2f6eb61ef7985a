// twofold-net: prints dom0's network plan for the checked persona policy, for the board's
// rc.network to load with the real tools (docs/network.md):
//   twofold-net --policy P --uplink eth0 [--address A/N --gateway G] ip | ip -batch -
//   twofold-net --policy P --uplink eth0 nft | nft -f -
//   twofold-net --policy P --uplink eth0 --uplink-kbit R tc | tc -batch -   (the shaper)
//   twofold-net --policy P --uplink eth0 links      (persona bridge dom0-address persona-address)
// A policy with errors prints nothing and exits 1: dom0 then keeps its default-deny state.
#include <arpa/inet.h>

#include <iostream>
#include <string>

#include <CLI/CLI.hpp>

#include "twofold/net/plan.h"
#include "twofold/policy/checker.h"
#include "twofold/policy/report.h"

namespace {

namespace tn = twofold::net;
namespace tp = twofold::policy;

std::optional<std::uint32_t> parse_address(const std::string& text) {
  in_addr a{};
  if (inet_pton(AF_INET, text.c_str(), &a) != 1) return std::nullopt;
  return ntohl(a.s_addr);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"dom0's network plan (bridges, addresses, nftables) from the persona policy"};
  std::string policy_file, address, gateway, what;
  std::uint32_t uplink_kbit = 0;
  tn::Uplink uplink;
  app.add_option("--policy", policy_file, "persona policy (TOML)")->required();
  app.add_option("--uplink", uplink.device, "dom0's data link interface (board profile data-link)")->required();
  app.add_option("--address", address, "the data link's static address, A.B.C.D/N");
  app.add_option("--gateway", gateway, "the data link's default gateway");
  app.add_option("--uplink-kbit", uplink_kbit, "the data link's uplink rate in kbit/s (shaping; board profile)")
      ->check(CLI::Range(64u, 10000000u));
  app.add_option("what", what, "ip | nft | tc | links")->required()->check(CLI::IsMember({"ip", "nft", "tc", "links"}));
  CLI11_PARSE(app, argc, argv);

  if (!tn::is_interface_name(uplink.device)) {
    std::cerr << "twofold-net: --uplink " << uplink.device << " is not an interface name\n";
    return 2;
  }
  if (!address.empty()) {
    const auto slash = address.find('/');
    const auto host = parse_address(address.substr(0, slash));
    const auto prefix = tp::Ipv4Prefix::parse(address, /*strict=*/false);
    if (slash == std::string::npos || !host || !prefix || prefix->length == 0 || prefix->length > 30) {
      std::cerr << "twofold-net: --address " << address << " is not A.B.C.D/N (N 1-30)\n";
      return 2;
    }
    uplink.address = *host;
    uplink.prefix_length = prefix->length;
  }
  if (!gateway.empty()) {
    uplink.gateway = parse_address(gateway);
    if (!uplink.gateway) {
      std::cerr << "twofold-net: --gateway " << gateway << " is not an IPv4 address\n";
      return 2;
    }
  }

  if (uplink_kbit != 0) uplink.uplink_kbit = uplink_kbit;

  const tp::LoadResult result = tp::load_and_check_policy_file(policy_file);
  if (!result.policy || tp::has_errors(result.findings)) {
    for (const auto& finding : result.findings) std::cerr << tp::format_human(finding) << '\n';
    std::cerr << "twofold-net: " << policy_file << " has errors; no network plan\n";
    return 1;
  }
  const tp::Policy& policy = *result.policy;
  if (what == "ip") {
    std::cout << tn::ip_batch(policy, uplink);
  } else if (what == "nft") {
    std::cout << tn::nft_ruleset(policy, uplink);
  } else if (what == "tc") {
    std::cout << tn::tc_batch(uplink);
  } else {
    for (const auto& link : tn::persona_links(policy)) {
      std::cout << link.persona << ' ' << link.bridge << ' ' << tp::format_ipv4(link.dom0_address) << ' '
                << tp::format_ipv4(link.persona_address) << '\n';
    }
  }
  return 0;
}
