// `twofold audit verify|show|keygen` through CLI11, as the twofold CLI's main runs them.

#include <gtest/gtest.h>

#include <CLI/CLI.hpp>

#include "audit_test_support.h"
#include "twofold/audit/cli.h"

namespace twofold::audit {
namespace {

using nlohmann::json;

struct CliResult {
  int code = -1;
  std::string out;
  std::string err;
};

CliResult run(std::vector<std::string> args) {
  std::ostringstream out;
  std::ostringstream err;
  CLI::App app("twofold");
  register_audit_commands(app, out, err);
  args.insert(args.begin(), "twofold");
  std::vector<const char*> argv;
  for (const auto& arg : args) argv.push_back(arg.c_str());
  CliResult result;
  try {
    app.parse(static_cast<int>(argv.size()), argv.data());
    result.code = 0;
  } catch (const CLI::ParseError& error) {
    result.code = app.exit(error, out, err);
  }
  result.out = out.str();
  result.err = err.str();
  return result;
}

class AuditCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    keys_ = generate_key_files(dir_.path() / "keys");
    WriterConfig config;
    config.checkpoint_every_records = 3;
    auto writer = Writer::open(std::make_unique<PosixLogStore>(log_dir()), SigningKey::load_pem(keys_.private_key),
                               config, clock_.clock());
    ASSERT_TRUE(writer->append(Event{"persona.start", std::string("personal"), {{"domid", 1}}}).ok());
    ASSERT_TRUE(writer->append(Event{"persona.start", std::string("work"), {{"domid", 2}}}).ok());
    ASSERT_TRUE(writer->append(Event{"switch", std::string("work"), {{"from", "personal"}}}).ok());
    ASSERT_TRUE(writer->append(Event{"modem.refuse", std::string("personal"), {{"at", "AT+CLCC"}}}).ok());
    ASSERT_TRUE(writer->seal().ok());
  }
  std::filesystem::path log_dir() const { return dir_.path() / "log"; }
  std::string pub() const { return keys_.public_key.string(); }

  testing::TempDir dir_;
  testing::SteppingClock clock_;
  KeyFiles keys_;
};

TEST_F(AuditCliTest, VerifyOfAnIntactLogExitsZero) {
  const CliResult result = run({"audit", "verify", "--public-key", pub(), log_dir().string()});
  EXPECT_EQ(result.code, 0) << result.out << result.err;
  EXPECT_NE(result.out.find("INTACT: 1 file(s), 4 record(s)"), std::string::npos) << result.out;
}

TEST_F(AuditCliTest, VerifyOfATamperedLogExitsOneAndNamesTheFirstBadLine) {
  const auto file = log_dir() / log_file_name(0);
  auto lines = testing::read_lines(file);
  testing::edit_json(lines[2], [](json& record) { record["persona"] = "personal"; });
  testing::write_lines(file, lines);
  const CliResult result = run({"audit", "verify", "--public-key", pub(), log_dir().string()});
  EXPECT_EQ(result.code, 1);
  EXPECT_NE(result.out.find(file.string() + ":3 (sequence 2): chain_mismatch"), std::string::npos) << result.out;
}

TEST_F(AuditCliTest, VerifyJsonReportsTheFirstBadRecord) {
  const auto file = log_dir() / log_file_name(0);
  auto lines = testing::read_lines(file);
  lines.erase(lines.begin() + 1);
  testing::write_lines(file, lines);
  const CliResult result = run({"audit", "verify", "--json", "--public-key", pub(), log_dir().string()});
  EXPECT_EQ(result.code, 1);
  const json report = json::parse(result.out);
  EXPECT_EQ(report["intact"], false);
  EXPECT_EQ(report["first_bad"]["problem"], "sequence_mismatch");
  EXPECT_EQ(report["first_bad"]["line"], 2);
  EXPECT_EQ(report["first_bad"]["sequence"], 1);
}

TEST_F(AuditCliTest, VerifyExpectSequenceBeyondTheEndIsTruncation) {
  const CliResult result =
      run({"audit", "verify", "--public-key", pub(), "--expect-sequence", "5", log_dir().string()});
  EXPECT_EQ(result.code, 1);
  EXPECT_NE(result.out.find("truncated"), std::string::npos) << result.out;
}

TEST_F(AuditCliTest, VerifyWithAnotherPublicKeyExitsOne) {
  const KeyFiles other = generate_key_files(dir_.path() / "other");
  const CliResult result = run({"audit", "verify", "--public-key", other.public_key.string(), log_dir().string()});
  EXPECT_EQ(result.code, 1);
  EXPECT_NE(result.out.find("unknown_key"), std::string::npos) << result.out;
}

TEST_F(AuditCliTest, VerifyOfAMissingPathExitsTwo) {
  const CliResult result = run({"audit", "verify", "--public-key", pub(), (dir_.path() / "nope").string()});
  EXPECT_EQ(result.code, 2);
  EXPECT_EQ(result.out.rfind("ERROR: cannot verify", 0), 0u) << result.out;
}

TEST_F(AuditCliTest, VerifyWithoutPathsExitsTwo) {
  EXPECT_EQ(run({"audit", "verify", "--public-key", pub()}).code, 2);
}

TEST_F(AuditCliTest, VerifyWithAPrivateKeyAsPublicKeyExitsTwo) {
  EXPECT_EQ(run({"audit", "verify", "--public-key", keys_.private_key.string(), log_dir().string()}).code, 2);
}

TEST_F(AuditCliTest, VerifyWithoutAKeyWarnsThatSignaturesAreUnchecked) {
  const CliResult result = run({"audit", "verify", log_dir().string()});
  EXPECT_EQ(result.code, 0);
  EXPECT_NE(result.err.find("NOT checked"), std::string::npos);
}

TEST_F(AuditCliTest, ShowFiltersByKindAndPersona) {
  const CliResult result =
      run({"audit", "show", "--json", "--kind", "persona.start", "--persona", "work", log_dir().string()});
  EXPECT_EQ(result.code, 0) << result.err;
  const json records = json::parse(result.out);
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0]["seq"], 2);
  EXPECT_EQ(records[0]["fields"]["domid"], 2);
}

TEST_F(AuditCliTest, ShowSinceDropsOlderRecords) {
  const std::int64_t third_ts = [&] {
    const auto lines = testing::read_lines(log_dir() / log_file_name(0));
    return json::parse(lines[3])["ts"].get<std::int64_t>();
  }();
  const CliResult result = run({"audit", "show", "--json", "--since", std::to_string(third_ts), log_dir().string()});
  const json records = json::parse(result.out);
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0]["seq"], 3);
}

TEST_F(AuditCliTest, ShowAcceptsRfc3339Since) {
  const CliResult result = run({"audit", "show", "--json", "--since", "2100-01-01T00:00:00Z", log_dir().string()});
  EXPECT_EQ(result.code, 0);
  EXPECT_TRUE(json::parse(result.out).empty());
}

TEST_F(AuditCliTest, ShowRejectsAnUnparsableSince) {
  EXPECT_EQ(run({"audit", "show", "--since", "yesterday", log_dir().string()}).code, 2);
}

TEST_F(AuditCliTest, ShowPrintsOneHumanLinePerRecord) {
  const CliResult result = run({"audit", "show", log_dir().string()});
  EXPECT_EQ(std::count(result.out.begin(), result.out.end(), '\n'), 4);
  EXPECT_NE(result.out.find("modem.refuse  personal  {\"at\":\"AT+CLCC\"}"), std::string::npos) << result.out;
}

TEST_F(AuditCliTest, KeygenWritesBothKeysAndRefusesToOverwrite) {
  const auto out = dir_.path() / "new-keys";
  EXPECT_EQ(run({"audit", "keygen", "--out", out.string()}).code, 0);
  EXPECT_TRUE(std::filesystem::exists(out / kPrivateKeyFile));
  EXPECT_TRUE(std::filesystem::exists(out / kPublicKeyFile));
  EXPECT_EQ(run({"audit", "keygen", "--out", out.string()}).code, 2);
}

TEST_F(AuditCliTest, VerifyHelpMentionsExitCodes) {
  const CliResult result = run({"audit", "verify", "--help"});
  EXPECT_NE(result.out.find("0 intact, 1 tampered"), std::string::npos) << result.out;
}

}  // namespace
}  // namespace twofold::audit
