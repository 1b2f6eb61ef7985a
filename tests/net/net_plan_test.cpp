// dom0's network plan from the policy (docs/network.md): the filter must forward each
// persona only to what its reach grants, and nothing between personas or to dom0.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "twofold/net/plan.h"
#include "twofold/policy/checker.h"

namespace twofold::net {
namespace {

namespace fs = std::filesystem;

std::string read_text(const fs::path& file) {
  std::ifstream in(file);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

std::string replace_all(std::string text, const std::string& from, const std::string& to) {
  for (auto at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
  return text;
}

// The lab board's policy as the build installs it (verity placeholders filled).
policy::Policy load(const std::string& text, const std::string& name) {
  const std::string filled = replace_all(replace_all(text, "@ROOT_HASH@", std::string(64, 'a')), "@HASH_OFFSET@", "4096");
  auto result = policy::load_and_check_policy(filled, name, policy::CheckOptions{.resolve_paths = false});
  EXPECT_FALSE(policy::has_errors(result.findings)) << name;
  EXPECT_TRUE(result.policy.has_value()) << name;
  return result.policy ? *result.policy : policy::Policy{};
}

policy::Policy lab_board() { return load(read_text(TWOFOLD_LAB_BOARD_POLICY), "lab-board.toml"); }

Uplink lab_uplink() {
  Uplink u;
  u.device = "eth0";
  u.address = (100u << 24) | (64u << 16) | 2u;
  u.prefix_length = 24;
  u.gateway = (100u << 24) | (64u << 16) | 1u;
  return u;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::stringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

bool has(const std::string& line, const std::string& part) { return line.find(part) != std::string::npos; }

// Forward rules that accept packets arriving from `bridge`.
std::vector<std::string> accepts_from(const std::string& ruleset, const std::string& bridge) {
  std::vector<std::string> out;
  for (const auto& line : lines_of(ruleset)) {
    if (has(line, "iifname \"" + bridge + "\"") && has(line, " accept")) out.push_back(line);
  }
  return out;
}

TEST(NetPlan, LabBoardGivesEachPersonaItsOwnBridgeAndAddresses) {
  const auto links = persona_links(lab_board());
  ASSERT_EQ(links.size(), 2u);
  EXPECT_EQ(links[0].persona, "secure");
  EXPECT_EQ(links[0].bridge, "br-secure");
  EXPECT_EQ(policy::format_ipv4(links[0].dom0_address), "10.20.2.1");
  EXPECT_EQ(policy::format_ipv4(links[0].persona_address), "10.20.2.2");
  EXPECT_EQ(guest_cmdline(links[0]), "twofold.ip=10.20.2.2/30 twofold.gw=10.20.2.1");
  EXPECT_EQ(links[1].bridge, "br-personal");
  EXPECT_NE(links[0].bridge, links[1].bridge);
}

TEST(NetPlan, IpBatchMakesTheBridgesAndTheStaticDataLink) {
  const std::string batch = ip_batch(lab_board(), lab_uplink());
  EXPECT_TRUE(has(batch, "address add 100.64.0.2/24 dev eth0\n"));
  EXPECT_TRUE(has(batch, "route add default via 100.64.0.1 dev eth0\n"));
  EXPECT_TRUE(has(batch, "link add name br-personal type bridge\n"));
  EXPECT_TRUE(has(batch, "address add 10.20.1.1/30 dev br-personal\n"));
  EXPECT_TRUE(has(batch, "address add 10.20.2.1/30 dev br-secure\n"));
}

TEST(NetPlan, EveryChainDeniesByDefault) {
  const std::string rules = nft_ruleset(lab_board(), lab_uplink());
  EXPECT_TRUE(has(rules, "type filter hook input priority filter; policy drop;"));
  EXPECT_TRUE(has(rules, "type filter hook forward priority filter; policy drop;"));
  EXPECT_TRUE(has(rules, "type filter hook output priority filter; policy drop;"));
  EXPECT_TRUE(has(rules, "flush ruleset"));
}

TEST(NetPlan, SecureLeavesOnlyAsWireGuardToItsGateway) {
  const auto accepts = accepts_from(nft_ruleset(lab_board(), lab_uplink()), "br-secure");
  ASSERT_EQ(accepts.size(), 4u);  // the four WireGuard message types
  for (const auto& rule : accepts) {
    EXPECT_TRUE(has(rule, "oifname \"eth0\" ip saddr 10.20.2.2 ip daddr 203.0.113.10/32 meta l4proto udp @th,64,32 0x0"))
        << rule;
  }
}

TEST(NetPlan, PersonalReachesTheInternetButNeverTheOrganisation) {
  const std::string rules = nft_ruleset(lab_board(), lab_uplink());
  EXPECT_TRUE(has(rules, "elements = { 10.8.0.0/16, 203.0.113.10/32 }"));
  const auto lines = lines_of(rules);
  std::size_t drop = 0, accept = 0;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    if (!has(lines[i], "iifname \"br-personal\"")) continue;
    if (has(lines[i], "ip daddr @organisation drop")) drop = i;
    if (has(lines[i], " accept")) accept = i;
  }
  ASSERT_GT(drop, 0u);
  EXPECT_LT(drop, accept) << "the organisation's drop must come before the internet accept";
}

TEST(NetPlan, NoPersonaIsForwardedToAnotherOrAcceptedByDom0) {
  const std::string rules = nft_ruleset(lab_board(), lab_uplink());
  for (const auto& line : lines_of(rules)) {
    if (!has(line, "accept")) continue;
    // From a persona bridge only towards the data link; into dom0 from no persona bridge.
    if (has(line, "iifname \"br-")) {
      EXPECT_TRUE(has(line, "oifname \"eth0\"")) << line;
    }
    if (has(line, "oifname \"br-")) {
      EXPECT_TRUE(has(line, "ct state established,related")) << line;
    }
  }
}

TEST(NetPlan, DomZeroReachIsTheOnlyWayIntoDom0) {
  policy::Policy p = lab_board();
  p.personas[1].networks[0].reach.push_back({"dom0", {}});
  const std::string rules = nft_ruleset(p, lab_uplink());
  EXPECT_TRUE(has(rules, "iifname \"br-personal\" ip saddr 10.20.1.2 accept\n"));
  EXPECT_FALSE(has(nft_ruleset(lab_board(), lab_uplink()), "iifname \"br-personal\" ip saddr 10.20.1.2 accept\n"));
}

TEST(NetPlan, NetworksWithoutSubnetAreNotRouted) {
  policy::Policy p = lab_board();
  p.personas[1].networks[0].subnet.reset();
  EXPECT_EQ(persona_links(p).size(), 1u);
  EXPECT_TRUE(accepts_from(nft_ruleset(p, lab_uplink()), "br-personal").empty());
}

// Fair sharing (docs/network.md): a secure persona's packets enter the shaper's guaranteed
// class; the personal persona's do not, so its flood queues only in the other class.
TEST(NetPlan, OnlySecurePacketsGetTheGuaranteedClass) {
  const std::string rules = nft_ruleset(lab_board(), lab_uplink());
  const auto secure = accepts_from(rules, "br-secure");
  ASSERT_FALSE(secure.empty());
  for (const auto& rule : secure) EXPECT_TRUE(has(rule, " meta priority set 1:10 accept")) << rule;
  const auto personal = accepts_from(rules, "br-personal");
  ASSERT_FALSE(personal.empty());
  for (const auto& rule : personal) EXPECT_FALSE(has(rule, "meta priority")) << rule;
}

TEST(NetPlan, ShaperGuaranteesTheSecureClassHalfTheUplink) {
  Uplink u = lab_uplink();
  u.uplink_kbit = 20000;
  const std::string batch = tc_batch(u);
  EXPECT_TRUE(has(batch, "qdisc replace dev eth0 root handle 1: htb default 20\n"));
  EXPECT_TRUE(has(batch, "class add dev eth0 parent 1: classid 1:1 htb rate 20000kbit ceil 20000kbit burst 12500b cburst 12500b quantum 1514\n"));
  EXPECT_TRUE(has(batch, "classid 1:10 htb rate 10000kbit ceil 20000kbit prio 0 burst 12500b cburst 12500b quantum 1514\n"));
  EXPECT_TRUE(has(batch, "classid 1:20 htb rate 10000kbit ceil 20000kbit prio 1 burst 12500b cburst 12500b quantum 1514\n"));
  EXPECT_TRUE(has(batch, "qdisc add dev eth0 parent 1:10 fq_codel\n"));
  EXPECT_TRUE(has(batch, "qdisc add dev eth0 parent 1:20 fq_codel\n"));
}

TEST(NetPlan, NoUplinkRateMeansNoShaper) {
  EXPECT_FALSE(has(tc_batch(lab_uplink()), "qdisc"));
  Uplink bad = lab_uplink();
  bad.uplink_kbit = 20000;
  bad.device = "eth0;reboot";
  EXPECT_FALSE(has(tc_batch(bad), "qdisc"));
}

TEST(NetPlan, InterfaceNames) {
  EXPECT_TRUE(is_interface_name("eth0"));
  EXPECT_TRUE(is_interface_name("br-personal"));
  EXPECT_FALSE(is_interface_name(""));
  EXPECT_FALSE(is_interface_name("a-name-of-16-chr"));
  EXPECT_FALSE(is_interface_name("eth0;reboot"));
  EXPECT_FALSE(is_interface_name(".."));
}

// The rules generated from every policy of the tree that has networks load into the real
// nftables (`nft --check`, in a network namespace of its own), when nft is there: scripts/setup
// installs it for the lab, so CI runs this.
TEST(NetPlan, GeneratedRulesetsPassNftCheck) {
  if (std::system("command -v nft >/dev/null 2>&1 && command -v unshare >/dev/null 2>&1 && unshare -n true 2>/dev/null") != 0) {
    GTEST_SKIP() << "nft or unshare -n not available";
  }
  std::vector<std::pair<std::string, std::string>> policies = {
      {"lab-board.toml", read_text(TWOFOLD_LAB_BOARD_POLICY)},
      {"personas.toml", read_text(TWOFOLD_SHIPPED_POLICY)},
      {"minimal.toml", read_text(fs::path(TWOFOLD_POLICY_TEST_DIR) / "good" / "minimal.toml")},
  };
  for (const auto& [name, text] : policies) {
    SCOPED_TRACE(name);
    const fs::path file = fs::temp_directory_path() / ("twofold-net-test-" + name + ".nft");
    std::ofstream(file) << nft_ruleset(load(text, name), lab_uplink());
    EXPECT_EQ(std::system(("unshare -n nft -c -f " + file.string()).c_str()), 0);
    fs::remove(file);
  }
}

// The shaper loads into the real tc (HTB and fq_codel on a veth in a network namespace of its
// own), when tc, unshare -n and the host kernel's sch_htb and sch_fq_codel are there.
TEST(NetPlan, ShaperPassesTcInANamespace) {
  if (std::system("command -v tc >/dev/null 2>&1 && unshare -n sh -c 'ip link add eth0 type veth peer name eth1 && "
                  "tc qdisc add dev eth0 root handle 1: htb && tc qdisc add dev eth1 root fq_codel' >/dev/null 2>&1") != 0) {
    GTEST_SKIP() << "tc, unshare -n, veth, sch_htb or sch_fq_codel not available";
  }
  Uplink u = lab_uplink();
  u.uplink_kbit = 20000;
  const fs::path file = fs::temp_directory_path() / "twofold-net-test.tc";
  std::ofstream(file) << tc_batch(u);
  EXPECT_EQ(std::system(("unshare -n sh -c 'ip link add eth0 type veth peer name eth1 && grep -v \"^#\" " + file.string() +
                         " | tc -batch - && tc class show dev eth0 | grep -q \"class htb 1:10\"'")
                            .c_str()),
            0);
  fs::remove(file);
}

}  // namespace
}  // namespace twofold::net
