// Data-driven: every tests/policy/bad/<rule>.toml starts with "# rule: <rule>" and must
// produce findings of exactly that rule; every rule has such a file and is documented.
#include <gtest/gtest.h>

#include <filesystem>

#include "test_support.h"
#include "twofold/policy/checker.h"
#include "twofold/policy/report.h"
#include "twofold/policy/rules.h"

namespace twofold::policy {
namespace {

namespace fs = std::filesystem;

const fs::path kBadDir = fs::path(TWOFOLD_POLICY_TEST_DIR) / "bad";

// Rules about the file rather than its content cannot be a corpus file; loader_test covers them.
bool needs_corpus_file(std::string_view id) { return !id.starts_with("io."); }

std::string declared_rule(const std::string& text) {
  const std::string prefix = "# rule: ";
  if (!text.starts_with(prefix)) return {};
  return text.substr(prefix.size(), text.find('\n') - prefix.size());
}

std::vector<fs::path> corpus_files() {
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(kBadDir)) {
    if (entry.path().extension() == ".toml") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

TEST(PolicyCorpus, EveryBadPolicyReportsExactlyItsRule) {
  const auto files = corpus_files();
  ASSERT_GE(files.size(), 40u);
  for (const auto& file : files) {
    SCOPED_TRACE(file.filename().string());
    const std::string expected = declared_rule(test::read_text(file.string()));
    ASSERT_EQ(expected, file.stem().string()) << "first line must be '# rule: <file name>'";
    const LoadResult result =
        load_and_check_policy_file(file, CheckOptions{.resolve_paths = false});
    EXPECT_EQ(test::rules_of(result.findings), std::set<std::string>{expected});
    for (const auto& finding : result.findings) {
      EXPECT_GT(finding.where.line, 0u) << format_human(finding);
      EXPECT_FALSE(finding.hint.empty()) << format_human(finding);
      const RuleInfo* info = find_rule(finding.rule);
      ASSERT_NE(info, nullptr);
      EXPECT_EQ(finding.severity, info->severity) << format_human(finding);
    }
  }
}

TEST(PolicyCorpus, EveryRuleHasABadPolicy) {
  for (const RuleInfo& info : all_rules()) {
    if (!needs_corpus_file(info.id)) continue;
    EXPECT_TRUE(fs::exists(kBadDir / (std::string(info.id) + ".toml"))) << info.id;
  }
}

TEST(PolicyCorpus, EveryRuleIsDocumented) {
  const std::string doc = test::read_text(TWOFOLD_POLICY_DOC);
  ASSERT_FALSE(doc.empty());
  for (const RuleInfo& info : all_rules()) {
    EXPECT_NE(doc.find("`" + std::string(info.id) + "`"), std::string::npos) << info.id;
  }
}

TEST(PolicyCorpus, RuleIdsAreUnique) {
  std::set<std::string_view> seen;
  for (const RuleInfo& info : all_rules()) EXPECT_TRUE(seen.insert(info.id).second) << info.id;
}

}  // namespace
}  // namespace twofold::policy
