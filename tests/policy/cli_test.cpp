// Runs the built `twofold` binary as a user would and checks exit codes and output.
#include <gtest/gtest.h>

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

namespace {

struct Outcome {
  int exit_code = -1;
  std::string out;  // stdout and stderr together
};

Outcome run(const std::string& args) {
  const std::string command = std::string("'") + TWOFOLD_CLI + "' " + args + " 2>&1";
  Outcome result;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return result;
  std::array<char, 4096> buffer{};
  std::size_t n = 0;
  while ((n = std::fread(buffer.data(), 1, buffer.size(), pipe)) > 0) result.out.append(buffer.data(), n);
  const int status = ::pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

Outcome run_stdout_only(const std::string& args) {
  return run(args + " 2>/dev/null");
}

const std::string kBad = std::string(TWOFOLD_POLICY_TEST_DIR) + "/bad/";

TEST(PolicyCli, ShippedPolicyChecksCleanWithExitZero) {
  const Outcome r = run(std::string("policy check ") + TWOFOLD_SHIPPED_POLICY);
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("0 errors, 0 warnings"), std::string::npos) << r.out;
}

TEST(PolicyCli, BadPolicyExitsOneWithFileLineColumnAndRule) {
  const std::string file = kBad + "secure.no-camera.toml";
  const Outcome r = run("policy check " + file);
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_NE(r.out.find(file + ":87:10: error[secure.no-camera]: "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("(hint: "), std::string::npos) << r.out;
}

TEST(PolicyCli, WarningsAloneExitZero) {
  const Outcome r = run("policy check " + kBad + "audit.fsync-checkpoint-only.toml");
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("warning[audit.fsync-checkpoint-only]"), std::string::npos) << r.out;
}

TEST(PolicyCli, JsonOutputIsAnArrayOfFindings) {
  const Outcome r = run_stdout_only("policy check --json " + kBad + "modem.channel-shared.toml");
  EXPECT_EQ(r.exit_code, 1);
  const auto json = nlohmann::json::parse(r.out);
  ASSERT_TRUE(json.is_array());
  ASSERT_EQ(json.size(), 1u);
  EXPECT_EQ(json[0]["rule"], "modem.channel-shared");
  EXPECT_EQ(json[0]["severity"], "error");
  EXPECT_GT(json[0]["line"].get<int>(), 0);
}

TEST(PolicyCli, JsonOutputForCleanPolicyIsEmptyArray) {
  const Outcome r = run_stdout_only(std::string("policy check --json ") + TWOFOLD_SHIPPED_POLICY);
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(nlohmann::json::parse(r.out), nlohmann::json::array());
}

TEST(PolicyCli, SyntaxErrorExitsOne) {
  const Outcome r = run("policy check " + kBad + "toml.syntax.toml");
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_NE(r.out.find("error[toml.syntax]"), std::string::npos) << r.out;
}

TEST(PolicyCli, MissingFileExitsTwo) {
  const Outcome r = run("policy check /nonexistent/personas.toml");
  EXPECT_EQ(r.exit_code, 2) << r.out;
  EXPECT_NE(r.out.find("io.unreadable"), std::string::npos) << r.out;
}

TEST(PolicyCli, MissingFileArgumentIsUsageErrorExitTwo) {
  const Outcome r = run("policy check");
  EXPECT_EQ(r.exit_code, 2) << r.out;
}

TEST(PolicyCli, UnknownOptionIsUsageErrorExitTwo) {
  const Outcome r = run("policy check --yaml x.toml");
  EXPECT_EQ(r.exit_code, 2) << r.out;
}

TEST(PolicyCli, NoCommandIsUsageErrorExitTwo) {
  const Outcome r = run("");
  EXPECT_EQ(r.exit_code, 2) << r.out;
}

TEST(PolicyCli, HelpDocumentsExitCodes) {
  const Outcome r = run("--help");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("Exit codes:"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("policy"), std::string::npos) << r.out;
}

TEST(PolicyCli, VersionPrintsProgramAndVersion) {
  const Outcome r = run("--version");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out.rfind("twofold ", 0), 0u) << r.out;
}

TEST(PolicyCli, RulesListsEveryRuleId) {
  const Outcome r = run_stdout_only("policy rules --json");
  EXPECT_EQ(r.exit_code, 0);
  const auto json = nlohmann::json::parse(r.out);
  ASSERT_TRUE(json.is_array());
  bool found = false;
  for (const auto& rule : json) found = found || rule["rule"] == "secure.no-shared-disk";
  EXPECT_TRUE(found);
}

}  // namespace
