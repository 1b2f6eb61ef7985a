// One test per way an attacker with write access to the log directory can tamper with it;
// each asserts which line the verifier names as FIRST bad, and why.

#include <gtest/gtest.h>

#include <algorithm>

#include "audit_test_support.h"
#include "twofold/audit/verifier.h"

namespace twofold::audit {
namespace {

using testing::chain_of;
using testing::edit_json;
using testing::read_lines;
using testing::rechain;
using testing::resign;
using testing::write_lines;

class TamperTest : public ::testing::Test {
 protected:
  void SetUp() override {
    options_.public_key = VerifyKey::from_pem(key_.public_pem());
  }

  // One file: 0 header, 1-4 records 1-4, 5 checkpoint(4), 6-9 records 5-8,
  // 10 checkpoint(8), 11-12 records 9-10 (unsealed).
  std::filesystem::path write_single_file_log() {
    WriterConfig config;
    config.checkpoint_every_records = 4;
    config.checkpoint_every = std::chrono::hours(1);
    auto writer = Writer::open(std::make_unique<PosixLogStore>(dir_.path()),
                               SigningKey::from_pem(key_.private_pem()), config, clock_.clock());
    for (int n = 1; n <= 10; ++n) EXPECT_TRUE(writer->append(testing::event("switch", n)).ok());
    return dir_.path() / log_file_name(0);
  }

  // Several files of a few records each, every file sealed before rotation.
  std::vector<std::filesystem::path> write_rotated_log() {
    WriterConfig config;
    config.checkpoint_every_records = 100;
    config.checkpoint_every = std::chrono::hours(1);
    config.rotate_bytes = 700;
    auto writer = Writer::open(std::make_unique<PosixLogStore>(dir_.path()),
                               SigningKey::from_pem(key_.private_pem()), config, clock_.clock());
    for (int n = 1; n <= 12; ++n) EXPECT_TRUE(writer->append(testing::event("persona.start", n)).ok());
    EXPECT_TRUE(writer->seal().ok());
    return expand_log_paths({dir_.path()});
  }

  VerifyReport verify_dir() { return verify({dir_.path()}, options_); }

  static void expect_first_bad(const VerifyReport& report, Problem problem, const std::filesystem::path& file,
                               std::uint64_t line, std::optional<std::uint64_t> sequence) {
    ASSERT_TRUE(report.first_bad.has_value()) << "log was reported intact";
    EXPECT_EQ(to_string(report.first_bad->problem), to_string(problem)) << report.first_bad->detail;
    EXPECT_EQ(report.first_bad->where.file, file.string());
    EXPECT_EQ(report.first_bad->where.line, line);
    EXPECT_EQ(report.first_bad->where.sequence, sequence);
  }

  testing::TempDir dir_;
  testing::SteppingClock clock_;
  SigningKey key_ = SigningKey::generate();
  VerifyOptions options_;
};

TEST_F(TamperTest, UntouchedLogIsIntactWithTwoUnsealedRecords) {
  write_single_file_log();
  const VerifyReport report = verify_dir();
  EXPECT_TRUE(report.intact()) << report.first_bad->detail;
  EXPECT_EQ(report.records, 10u);
  EXPECT_EQ(report.checkpoints, 2u);
  EXPECT_EQ(report.last_sealed_sequence, 8u);
  EXPECT_EQ(report.unsealed_records, 2u);
  EXPECT_TRUE(report.signatures_checked);
}

TEST_F(TamperTest, EditedFieldIsFirstBadAtThatRecord) {
  const auto file = write_single_file_log();
  auto lines = read_lines(file);
  edit_json(lines[3], [](nlohmann::json& record) { record["fields"]["n"] = 99; });
  write_lines(file, lines);
  expect_first_bad(verify_dir(), Problem::chain_mismatch, file, 4, 3);
}

TEST_F(TamperTest, EditedRecordWithRecomputedChainIsCaughtByItsCheckpoint) {
  const auto file = write_single_file_log();
  auto lines = read_lines(file);
  edit_json(lines[3], [](nlohmann::json& record) { record["kind"] = "policy.load"; });
  rechain(lines, 3, chain_of(lines[2]));
  write_lines(file, lines);
  expect_first_bad(verify_dir(), Problem::checkpoint_mismatch, file, 6, 4);
}

TEST_F(TamperTest, DeletedLineIsReportedWhereTheMissingRecordBelongs) {
  const auto file = write_single_file_log();
  auto lines = read_lines(file);
  lines.erase(lines.begin() + 3);  // record 3
  write_lines(file, lines);
  expect_first_bad(verify_dir(), Problem::sequence_mismatch, file, 4, 3);
}

TEST_F(TamperTest, InsertedDuplicateLineIsFirstBad) {
  const auto file = write_single_file_log();
  auto lines = read_lines(file);
  lines.insert(lines.begin() + 3, lines[2]);  // record 2 again, before record 3
  write_lines(file, lines);
  expect_first_bad(verify_dir(), Problem::sequence_mismatch, file, 4, 3);
}

TEST_F(TamperTest, InsertedForgedRecordWithValidChainIsCaughtAtTheNextRecord) {
  const auto file = write_single_file_log();
  auto lines = read_lines(file);
  std::string forged = lines[2];
  edit_json(forged, [](nlohmann::json& record) {
    record["seq"] = 3;
    record["kind"] = "modem.refuse";
  });
  lines.insert(lines.begin() + 3, forged);
  rechain(lines, 3, chain_of(lines[2]));  // only the forged line; the rest is left alone
  lines[4] = read_lines(file)[3];
  write_lines(file, lines);
  expect_first_bad(verify_dir(), Problem::sequence_mismatch, file, 5, 4);
}

TEST_F(TamperTest, SwappedLinesAreFirstBadAtTheEarlierPosition) {
  const auto file = write_single_file_log();
  auto lines = read_lines(file);
  std::swap(lines[3], lines[4]);  // records 3 and 4
  write_lines(file, lines);
  expect_first_bad(verify_dir(), Problem::sequence_mismatch, file, 4, 3);
}

TEST_F(TamperTest, TruncatedTailIsReportedWhenMoreRecordsWereExpected) {
  const auto file = write_single_file_log();
  auto lines = read_lines(file);
  lines.resize(10);  // drops checkpoint(8) and records 9-10
  write_lines(file, lines);
  options_.expect_sequence = 10;
  expect_first_bad(verify_dir(), Problem::truncated, file, 11, 9);
}

TEST_F(TamperTest, TruncatedTailWithoutExpectationShowsUpAsUnsealedRecords) {
  const auto file = write_single_file_log();
  auto lines = read_lines(file);
  lines.resize(10);  // the last checkpoint is gone: records 5-8 are no longer sealed
  write_lines(file, lines);
  const VerifyReport report = verify_dir();
  EXPECT_TRUE(report.intact());
  EXPECT_EQ(report.last_sealed_sequence, 4u);
  EXPECT_EQ(report.unsealed_records, 4u);
}

TEST_F(TamperTest, RequireSealedNamesTheFirstUnsealedRecord) {
  const auto file = write_single_file_log();
  options_.require_sealed = true;
  expect_first_bad(verify_dir(), Problem::unsealed_records, file, 12, 9);
}

TEST_F(TamperTest, CheckpointResignedWithAnotherKeyIsRejected) {
  const auto file = write_single_file_log();
  auto lines = read_lines(file);
  edit_json(lines[3], [](nlohmann::json& record) { record["fields"]["n"] = 99; });
  rechain(lines, 3, chain_of(lines[2]));
  const SigningKey attacker = SigningKey::generate();
  edit_json(lines[5], [&](nlohmann::json& checkpoint) { checkpoint["chain"] = to_hex(chain_of(lines[4])); });
  resign(lines[5], attacker, attacker.key_id());
  write_lines(file, lines);
  expect_first_bad(verify_dir(), Problem::unknown_key, file, 6, 4);
}

TEST_F(TamperTest, CheckpointSignedByAnotherKeyUnderThePinnedKeyIdIsRejected) {
  const auto file = write_single_file_log();
  auto lines = read_lines(file);
  const SigningKey attacker = SigningKey::generate();
  resign(lines[10], attacker, key_.key_id());
  write_lines(file, lines);
  expect_first_bad(verify_dir(), Problem::bad_signature, file, 11, 8);
}

TEST_F(TamperTest, ClockGoingBackwardsIsFirstBadAtThatRecord) {
  const auto file = write_single_file_log();
  auto lines = read_lines(file);
  const std::int64_t before = nlohmann::json::parse(lines[6])["ts"].get<std::int64_t>();
  edit_json(lines[7], [&](nlohmann::json& record) { record["ts"] = before - 1; });  // record 6
  rechain(lines, 7, chain_of(lines[6]));
  write_lines(file, lines);
  expect_first_bad(verify_dir(), Problem::timestamp_backwards, file, 8, 6);
}

TEST_F(TamperTest, NonCanonicalRewriteOfAnUnchangedRecordIsRejected) {
  const auto file = write_single_file_log();
  auto lines = read_lines(file);
  lines[2] = nlohmann::json::parse(lines[2]).dump(1);  // same content, different bytes
  lines[2].erase(std::remove(lines[2].begin(), lines[2].end(), '\n'), lines[2].end());
  write_lines(file, lines);
  expect_first_bad(verify_dir(), Problem::malformed_line, file, 3, 2);
}

TEST_F(TamperTest, WithoutPublicKeyTheChainIsCheckedButSignaturesAreNot) {
  const auto file = write_single_file_log();
  auto lines = read_lines(file);
  resign(lines[5], SigningKey::generate(), key_.key_id());
  write_lines(file, lines);
  options_.public_key.reset();
  const VerifyReport report = verify_dir();
  EXPECT_TRUE(report.intact());
  EXPECT_FALSE(report.signatures_checked);
}

TEST_F(TamperTest, RotatedLogIsIntactAcrossFiles) {
  const auto files = write_rotated_log();
  ASSERT_GE(files.size(), 3u);
  const VerifyReport report = verify_dir();
  EXPECT_TRUE(report.intact()) << report.first_bad->detail;
  EXPECT_EQ(report.files, files.size());
  EXPECT_EQ(report.records, 12u);
  EXPECT_EQ(report.unsealed_records, 0u);
}

TEST_F(TamperTest, BrokenRotationLinkIsFirstBadAtTheNextFilesHeader) {
  const auto files = write_rotated_log();
  auto lines = read_lines(files[1]);
  edit_json(lines[0], [](nlohmann::json& header) { header["prev_chain"] = std::string(64, '0'); });
  write_lines(files[1], lines);
  const auto previous = read_lines(files[0]);
  const std::uint64_t last_seq = nlohmann::json::parse(previous.back())["seq"].get<std::uint64_t>();
  expect_first_bad(verify_dir(), Problem::rotation_broken, files[1], 1, last_seq + 1);
}

TEST_F(TamperTest, DeletedMiddleFileBreaksRotation) {
  const auto files = write_rotated_log();
  const auto first = read_lines(files[0]);
  const std::uint64_t last_seq = nlohmann::json::parse(first.back())["seq"].get<std::uint64_t>();
  std::filesystem::remove(files[1]);
  expect_first_bad(verify_dir(), Problem::rotation_broken, files[2], 1, last_seq + 1);
}

TEST_F(TamperTest, FileCutBeforeTheCheckpointTheNextHeaderRefersToIsTruncation) {
  const auto files = write_rotated_log();
  auto lines = read_lines(files[0]);
  lines.resize(lines.size() - 2);  // last record and the sealing checkpoint
  write_lines(files[0], lines);
  const std::uint64_t kept = nlohmann::json::parse(lines.back())["seq"].get<std::uint64_t>();
  expect_first_bad(verify_dir(), Problem::truncated, files[1], 1, kept + 1);
}

TEST_F(TamperTest, RemovedFinalCheckpointOfARotatedFileIsTruncation) {
  const auto files = write_rotated_log();
  auto lines = read_lines(files[0]);
  lines.pop_back();
  write_lines(files[0], lines);
  const std::uint64_t kept = nlohmann::json::parse(lines.back())["seq"].get<std::uint64_t>();
  expect_first_bad(verify_dir(), Problem::truncated, files[1], 1, kept);
}

TEST_F(TamperTest, LogWithoutItsFirstFileIsMissingGenesis) {
  const auto files = write_rotated_log();
  std::filesystem::remove(files[0]);
  const auto first = read_lines(files[1]);
  const std::uint64_t prev = nlohmann::json::parse(first[0])["prev_seq"].get<std::uint64_t>();
  expect_first_bad(verify_dir(), Problem::missing_genesis, files[1], 1, prev + 1);
}

TEST_F(TamperTest, RetiredFirstFileIsAcceptedWhenAllowed) {
  const auto files = write_rotated_log();
  std::filesystem::remove(files[0]);
  options_.allow_missing_head = true;
  const VerifyReport report = verify_dir();
  EXPECT_TRUE(report.intact()) << report.first_bad->detail;
  EXPECT_GT(report.first_sequence, 0u);
  EXPECT_EQ(report.last_sequence, 12u);
}

TEST_F(TamperTest, TornLineInsideTheLogIsRejected) {
  const auto files = write_rotated_log();
  auto content = testing::read_file(files[0]);
  content.pop_back();  // the checkpoint's '\n'
  std::ofstream(files[0], std::ios::binary | std::ios::trunc) << content;
  const auto lines = read_lines(files[0]);
  const std::uint64_t last_seq = nlohmann::json::parse(lines[lines.size() - 2])["seq"].get<std::uint64_t>();
  expect_first_bad(verify_dir(), Problem::torn_line, files[0], lines.size(), last_seq + 1);
}

TEST_F(TamperTest, TornTailAtTheEndOfTheLogIsANoteNotTampering) {
  const auto file = write_single_file_log();
  std::ofstream(file, std::ios::binary | std::ios::app) << R"({"chain":"ab)";
  const VerifyReport report = verify_dir();
  EXPECT_TRUE(report.intact());
  EXPECT_EQ(report.torn_tail_bytes, 12u);
}

TEST_F(TamperTest, EmptyLastFileFromACrashDuringRotationIsANote) {
  const auto files = write_rotated_log();
  std::ofstream(dir_.path() / log_file_name(files.size()), std::ios::binary);
  const VerifyReport report = verify_dir();
  EXPECT_TRUE(report.intact()) << report.first_bad->detail;
  EXPECT_TRUE(report.empty_last_file);
}

TEST_F(TamperTest, EmptiedMiddleFileIsRejected) {
  const auto files = write_rotated_log();
  const auto first = read_lines(files[0]);
  const std::uint64_t last_seq = nlohmann::json::parse(first.back())["seq"].get<std::uint64_t>();
  std::ofstream(files[1], std::ios::binary | std::ios::trunc);
  expect_first_bad(verify_dir(), Problem::torn_line, files[1], 1, last_seq + 1);
}

TEST_F(TamperTest, FilesGivenOutOfOrderBreakRotation) {
  const auto files = write_rotated_log();
  const VerifyReport report = verify({files[0], files[2], files[1]}, options_);
  ASSERT_FALSE(report.intact());
  EXPECT_EQ(report.first_bad->problem, Problem::rotation_broken);
  EXPECT_EQ(report.first_bad->where.file, files[2].string());
}

}  // namespace
}  // namespace twofold::audit
