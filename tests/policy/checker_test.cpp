#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "test_support.h"
#include "twofold/policy/checker.h"
#include "twofold/policy/report.h"
#include "twofold/policy/rules.h"

namespace twofold::policy {
namespace {

using test::minimal_policy;
using test::replace_once;
using test::rules_of;

std::vector<Finding> check_text(const std::string& text, CheckOptions options = {}) {
  return load_and_check_policy(text, "p.toml", options).findings;
}

// A scratch directory removed at the end of the test.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "policy-test-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

TEST(PolicyChecker, MinimalPolicyHasNoFindings) {
  EXPECT_TRUE(check_text(minimal_policy()).empty());
}

TEST(PolicyChecker, ShippedLabPolicyHasNoFindings) {
  const LoadResult result = load_and_check_policy_file(TWOFOLD_SHIPPED_POLICY);
  for (const auto& finding : result.findings) ADD_FAILURE() << format_human(finding);
  EXPECT_EQ(result.status, LoadStatus::loaded);
}

TEST(PolicyChecker, ShippedLabBoardPolicyHasNoFindings) {
  const LoadResult result = load_and_check_policy_file(TWOFOLD_LAB_BOARD_POLICY);
  for (const auto& finding : result.findings) ADD_FAILURE() << format_human(finding);
  EXPECT_EQ(result.status, LoadStatus::loaded);
}

TEST(PolicyChecker, SecureDiskSharedThroughSymlinkIsFoundWhenResolvingPaths) {
  TempDir dir;
  const auto image = dir.path() / "shared.img";
  std::ofstream(image) << "image";
  const auto alias = dir.path() / "alias.img";
  std::filesystem::create_symlink(image, alias);
  std::string text = minimal_policy();
  text = replace_once(text, "/var/lib/twofold/guests/personal/system.img", image.string());
  text = replace_once(text, "/var/lib/twofold/guests/secure/data.img", alias.string());

  EXPECT_EQ(rules_of(check_text(text)),
            std::set<std::string>{std::string(rule::kSecureNoSharedDisk)});
  EXPECT_TRUE(check_text(text, CheckOptions{.resolve_paths = false}).empty());
}

TEST(PolicyChecker, ReadonlySecureDiskNeedNotBeEncrypted) {
  const std::string text =
      replace_once(minimal_policy(), "encrypted = true", "readonly = true\nencrypted = false");
  EXPECT_TRUE(check_text(text).empty());
}

TEST(PolicyChecker, TwoSecurePersonasAreReportedAtTheSecond) {
  std::string text = minimal_policy();
  text = replace_once(text, "kind = \"personal\"", "kind = \"secure\"");
  const auto findings = check_text(text);
  // The personal one is now missing too, and the camera and the internet network of the
  // former personal persona are now a secure persona's; the secure count points at the second
  // 'secure'.
  EXPECT_EQ(rules_of(findings), (std::set<std::string>{std::string(rule::kSecureCount),
                                                       std::string(rule::kPersonalCount),
                                                       std::string(rule::kSecureNoCamera),
                                                       std::string(rule::kSecureNetworkUnencrypted),
                                                       std::string(rule::kSecureReachOutsideOrganisation)}));
  const Finding* second = test::find_rule_in(findings, std::string(rule::kSecureCount));
  ASSERT_NE(second, nullptr);
  EXPECT_EQ(second->where.line, 67u);
}

TEST(PolicyChecker, ReachAcceptsIpv6Prefix) {
  const std::string text =
      replace_once(minimal_policy(), "reach = [\"internet\"]", "reach = [\"fd00::/8\", \"dom0\"]");
  EXPECT_TRUE(check_text(text).empty());
}

TEST(PolicyChecker, SecureReachInsideTheOrganisationIsValid) {
  const std::string text =
      replace_once(minimal_policy(), "reach = [\"10.8.0.0/16\"]", "reach = [\"10.8.4.0/24\", \"10.8.0.1/32\"]");
  EXPECT_TRUE(check_text(text).empty());
}

TEST(PolicyChecker, SecureReachOfAPrefixLargerThanTheOrganisationIsRefused) {
  const std::string text = replace_once(minimal_policy(), "reach = [\"10.8.0.0/16\"]", "reach = [\"10.0.0.0/8\"]");
  EXPECT_EQ(rules_of(check_text(text)), std::set<std::string>{std::string(rule::kSecureReachOutsideOrganisation)});
}

TEST(PolicyChecker, SecureNetworkWithoutAnOrganisationIsRefused) {
  const std::string text = replace_once(minimal_policy(), "[organisation]\nnetworks = [\"10.8.0.0/16\"]\n", "");
  EXPECT_EQ(rules_of(check_text(text)), std::set<std::string>{std::string(rule::kSecureReachOutsideOrganisation)});
}

TEST(PolicyChecker, PersonaSubnetInsideTheOrganisationOverlaps) {
  const std::string text = replace_once(minimal_policy(), "reach = [\"internet\"]\n",
                                        "reach = [\"internet\"]\nsubnet = \"10.8.7.0/30\"\n");
  const auto findings = check_text(text);
  EXPECT_EQ(rules_of(findings), std::set<std::string>{std::string(rule::kSubnetOverlap)});
  ASSERT_EQ(findings.size(), 1u);
  EXPECT_EQ(findings[0].where.line, 48u);
}

TEST(PolicyChecker, DisjointPersonaSubnetsAreValid) {
  std::string text = replace_once(minimal_policy(), "reach = [\"internet\"]\n",
                                  "reach = [\"internet\"]\nsubnet = \"10.20.1.0/30\"\n");
  text = replace_once(text, "tunnel = \"wireguard\"\n", "tunnel = \"wireguard\"\nsubnet = \"10.20.1.4/30\"\n");
  EXPECT_TRUE(check_text(text).empty());
}

TEST(PolicyChecker, RouteByCalledLineAloneIsValid) {
  const std::string text =
      replace_once(minimal_policy(), "sim_slot = 2\n", "called_line = \"+4930123456\"\n");
  EXPECT_TRUE(check_text(text).empty());
}

TEST(PolicyChecker, SameRouteMatchOnDifferentSimSlotsIsNotDuplicate) {
  const std::string text = replace_once(minimal_policy(), "[audit]",
                                        "[[modem.route]]\nsim_slot = 1\nto = \"personal\"\n\n[audit]");
  EXPECT_TRUE(check_text(text).empty());
}

TEST(PolicyChecker, UnusedDoublePressWindowIsOnlyAWarning) {
  const std::string text = replace_once(minimal_policy(), "long_press_ms = 800",
                                        "long_press_ms = 800\ndouble_press_window_ms = 300");
  const auto findings = check_text(text);
  ASSERT_EQ(findings.size(), 1u);
  EXPECT_EQ(findings[0].severity, Severity::warning);
  EXPECT_FALSE(has_errors(findings));
}

TEST(PolicyChecker, FindingsAreSortedByPosition) {
  std::string text = minimal_policy();
  text = replace_once(text, "fsync = \"record\"", "fsync = \"checkpoint\"");  // line 31, checker
  text = replace_once(text, "cpus = 2", "cpus = true");                     // line 7, loader
  const auto findings = check_text(text);
  ASSERT_EQ(findings.size(), 2u);
  EXPECT_LT(findings[0].where.line, findings[1].where.line);
}

TEST(PolicyReport, HumanFormIsFileLineColumnSeverityRuleMessageHint) {
  const Finding finding{Severity::error, "p.toml", {3, 7}, "secure.no-camera", "no camera", "remove it"};
  EXPECT_EQ(format_human(finding), "p.toml:3:7: error[secure.no-camera]: no camera (hint: remove it)");
}

TEST(PolicyReport, HumanFormOmitsPositionAndHintWhenAbsent) {
  const Finding finding{Severity::warning, "p.toml", {}, "io.unreadable", "cannot open", ""};
  EXPECT_EQ(format_human(finding), "p.toml: warning[io.unreadable]: cannot open");
}

TEST(PolicyReport, JsonCarriesEveryField) {
  const Finding finding{Severity::warning, "p.toml", {3, 7}, "audit.fsync-checkpoint-only", "m", "h"};
  const nlohmann::json json = to_json(std::vector<Finding>{finding});
  ASSERT_TRUE(json.is_array());
  ASSERT_EQ(json.size(), 1u);
  EXPECT_EQ(json[0]["severity"], "warning");
  EXPECT_EQ(json[0]["file"], "p.toml");
  EXPECT_EQ(json[0]["line"], 3);
  EXPECT_EQ(json[0]["column"], 7);
  EXPECT_EQ(json[0]["rule"], "audit.fsync-checkpoint-only");
  EXPECT_EQ(json[0]["message"], "m");
  EXPECT_EQ(json[0]["hint"], "h");
}

}  // namespace
}  // namespace twofold::policy
