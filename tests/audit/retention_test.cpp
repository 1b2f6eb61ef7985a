// Retention and a full disk: the log stays within its size bound by deleting its oldest
// files behind a signed audit.retention record, a full disk never stops the writer at a
// rotation (reserve, then the oldest files), and the verifier accepts exactly the deletions
// the writer announced.

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cerrno>

#include "audit_test_support.h"
#include "twofold/audit/verifier.h"

namespace twofold::audit {
namespace {

class RetentionTest : public ::testing::Test {
 protected:
  WriterConfig small_files() const {
    WriterConfig config;
    config.checkpoint_every_records = 4;
    config.checkpoint_every = std::chrono::hours(1);
    config.rotate_bytes = 600;
    config.rotation_slack_bytes = 1200;
    return config;
  }
  std::unique_ptr<Writer> open_writer(const WriterConfig& config) {
    return Writer::open(std::make_unique<testing::MemoryLogStore>(state_), SigningKey::from_pem(key_.private_pem()),
                        config, clock_.clock());
  }
  VerifyReport verify_memory(bool allow_missing_head = false) {
    VerifyOptions options;
    options.public_key = VerifyKey::from_pem(key_.public_pem());
    options.allow_missing_head = allow_missing_head;
    return verify_buffers(testing::memory_files(*state_), options);
  }
  std::vector<std::uint64_t> log_indices() const {
    std::vector<std::uint64_t> indices;
    for (const auto& [name, content] : state_->files) {
      if (const auto index = parse_log_file_name(name)) indices.push_back(*index);
    }
    return indices;
  }
  std::uint64_t log_bytes() const {
    std::uint64_t total = 0;
    for (const auto& [name, content] : testing::memory_files(*state_)) total += content.size();
    return total;
  }
  // Every audit.retention record's fields, oldest first.
  std::vector<nlohmann::json> retention_records() const {
    std::vector<nlohmann::json> found;
    for (const auto& [name, content] : testing::memory_files(*state_)) {
      std::istringstream in(content);
      std::string line;
      while (std::getline(in, line)) {
        const auto object = nlohmann::json::parse(line);
        if (object.value("kind", "") == "audit.retention") found.push_back(object["fields"]);
      }
    }
    return found;
  }
  // Takes whatever disk is left, as another dom0 writer filling the file system would.
  void fill_disk() { state_->allocated["other-files"] += state_->capacity_bytes - state_->used(); }

  std::shared_ptr<testing::MemoryState> state_ = std::make_shared<testing::MemoryState>();
  testing::SteppingClock clock_;
  SigningKey key_ = SigningKey::generate();
};

TEST_F(RetentionTest, SizeLimitDeletesTheOldestFilesAndTheLogStillVerifies) {
  WriterConfig config = small_files();
  config.keep_bytes = 4000;
  auto writer = open_writer(config);
  for (int n = 0; n < 200; ++n) ASSERT_TRUE(writer->append(testing::event("switch", n)).ok()) << n;
  ASSERT_TRUE(writer->seal().ok());

  EXPECT_GT(writer->files_retired(), 0u);
  EXPECT_LE(log_bytes(), config.keep_bytes);
  const auto indices = log_indices();
  ASSERT_FALSE(indices.empty());
  EXPECT_GT(indices.front(), 0u);
  const auto records = retention_records();
  ASSERT_FALSE(records.empty());
  EXPECT_EQ(records.back()["reason"], "size-limit");
  EXPECT_EQ(records.back()["first_kept_file"].get<std::uint64_t>(), indices.front());

  const VerifyReport report = verify_memory();
  ASSERT_TRUE(report.intact()) << report.first_bad->detail;
  ASSERT_TRUE(report.retired_before_file.has_value());
  EXPECT_EQ(*report.retired_before_file, indices.front());
  EXPECT_EQ(report.last_sequence, writer->last_sequence());
}

TEST_F(RetentionTest, DeletingMoreFilesThanRetentionDidIsMissingGenesis) {
  WriterConfig config = small_files();
  config.keep_bytes = 8000;
  auto writer = open_writer(config);
  for (int n = 0; n < 200; ++n) ASSERT_TRUE(writer->append(testing::event("switch", n)).ok());
  ASSERT_TRUE(writer->seal().ok());
  writer.reset();
  const auto indices = log_indices();
  ASSERT_GE(indices.size(), 3u);
  state_->files.erase(log_file_name(indices.front()));  // the attacker removes one more

  const VerifyReport report = verify_memory();
  ASSERT_FALSE(report.intact());
  EXPECT_EQ(report.first_bad->problem, Problem::missing_genesis);
  EXPECT_EQ(report.first_bad->where.file, log_file_name(indices[1]));
  EXPECT_NE(report.first_bad->detail.find("beyond retention"), std::string::npos) << report.first_bad->detail;
}

TEST_F(RetentionTest, DeletedHeadWithoutARetentionRecordIsMissingGenesis) {
  auto writer = open_writer(small_files());  // no size bound: nothing is ever retired
  for (int n = 0; n < 40; ++n) ASSERT_TRUE(writer->append(testing::event("switch", n)).ok());
  ASSERT_TRUE(writer->seal().ok());
  writer.reset();
  ASSERT_GE(log_indices().size(), 3u);
  state_->files.erase(log_file_name(0));

  EXPECT_EQ(verify_memory().first_bad->problem, Problem::missing_genesis);
  EXPECT_TRUE(verify_memory(/*allow_missing_head=*/true).intact());
}

TEST_F(RetentionTest, AnUnsealedRetentionRecordAppendedWithoutTheKeyDoesNotExcuseADeletedHead) {
  auto writer = open_writer(small_files());
  for (int n = 0; n < 40; ++n) ASSERT_TRUE(writer->append(testing::event("switch", n)).ok());
  ASSERT_TRUE(writer->seal().ok());
  writer.reset();
  const auto indices = log_indices();
  ASSERT_GE(indices.size(), 3u);
  state_->files.erase(log_file_name(0));
  // The attacker appends a chain-consistent retention record; it cannot sign a checkpoint.
  const std::string last = log_file_name(indices.back());
  std::vector<std::string> lines;
  {
    std::istringstream in(state_->files[last]);
    for (std::string line; std::getline(in, line);) lines.push_back(line);
  }
  const auto tail = nlohmann::json::parse(lines.back());
  nlohmann::json forged = {{"type", "record"},
                           {"seq", tail["seq"].get<std::uint64_t>() + 1},
                           {"ts", tail["ts"].get<std::int64_t>() + 1},
                           {"kind", "audit.retention"},
                           {"fields", {{"first_kept_file", indices[1]}, {"reason", "size-limit"}}}};
  lines.push_back(forged.dump());
  testing::rechain(lines, lines.size() - 1, testing::chain_of(lines[lines.size() - 2]));
  std::string bytes;
  for (const auto& line : lines) bytes += line + "\n";
  state_->files[last] = bytes;

  const VerifyReport report = verify_memory();
  ASSERT_FALSE(report.intact());
  EXPECT_EQ(report.first_bad->problem, Problem::missing_genesis);
}

TEST_F(RetentionTest, RecordsNeedNoNewDiskSpaceWithinAPreallocatedFile) {
  state_->capacity_bytes = 100'000;
  auto writer = open_writer(small_files());
  EXPECT_TRUE(writer->reserve_held());
  fill_disk();
  // Up to the rotation the file's preallocated room takes every record.
  while (state_->files[log_file_name(0)].size() < small_files().rotate_bytes) {
    ASSERT_TRUE(writer->append(testing::event("switch", 1)).ok());
  }
  EXPECT_FALSE(writer->failed());
}

TEST_F(RetentionTest, AFullDiskAtRotationUsesTheReserveThenRetiresTheOldestFile) {
  state_->capacity_bytes = 100'000;
  auto writer = open_writer(small_files());
  ASSERT_TRUE(writer->reserve_held());
  fill_disk();
  // Rotation 1 takes the reserve's space; later rotations, with no reserve and no free
  // space, take the oldest file's.
  for (int n = 0; n < 120; ++n) ASSERT_TRUE(writer->append(testing::event("switch", n)).ok()) << n;
  ASSERT_TRUE(writer->seal().ok());
  EXPECT_FALSE(writer->failed());
  EXPECT_FALSE(writer->reserve_held());
  EXPECT_GT(writer->files_retired(), 0u);
  EXPECT_LE(state_->used(), state_->capacity_bytes);
  const auto records = retention_records();
  ASSERT_FALSE(records.empty());
  EXPECT_EQ(records.back()["reason"], "disk-full");

  const VerifyReport report = verify_memory();
  ASSERT_TRUE(report.intact()) << report.first_bad->detail;
  EXPECT_EQ(report.last_sequence, writer->last_sequence());
  EXPECT_TRUE(report.retired_before_file.has_value());
}

TEST_F(RetentionTest, TheReserveComesBackOnceTheDiskHasRoomAgain) {
  state_->capacity_bytes = 100'000;
  auto writer = open_writer(small_files());
  fill_disk();
  for (int n = 0; n < 20; ++n) ASSERT_TRUE(writer->append(testing::event("switch", n)).ok());
  ASSERT_FALSE(writer->reserve_held());
  state_->allocated.erase("other-files");  // the other writer's files are cleaned up
  for (int n = 0; n < 20; ++n) ASSERT_TRUE(writer->append(testing::event("switch", n)).ok());
  EXPECT_TRUE(writer->reserve_held());
}

TEST_F(RetentionTest, WithoutPreallocationAFullDiskStillFailsClosed) {
  WriterConfig config = small_files();
  config.reserve_space = false;
  state_->capacity_bytes = 100'000;
  auto writer = open_writer(config);
  fill_disk();
  const Status status = writer->append(testing::event("switch", 1));
  EXPECT_EQ(status.sys_errno(), ENOSPC);
  EXPECT_TRUE(writer->failed());
  EXPECT_TRUE(verify_memory().intact());
}

TEST_F(RetentionTest, ADiskTooFullForAnythingFailsClosedWithEnospc) {
  state_->capacity_bytes = 100'000;
  auto writer = open_writer(small_files());
  fill_disk();
  state_->fail_create_errno = ENOSPC;  // not even a directory entry fits
  Status status;
  for (int n = 0; n < 100 && status.ok(); ++n) status = writer->append(testing::event("switch", n));
  EXPECT_EQ(status.sys_errno(), ENOSPC);
  EXPECT_TRUE(writer->failed());
  EXPECT_TRUE(verify_memory(/*allow_missing_head=*/false).intact());
}

TEST(PosixPreallocationTest, BlocksAreReservedPastTheEndAndGivenBackWhenSealed) {
  testing::TempDir dir;
  std::unique_ptr<LogFile> file;
  ASSERT_TRUE(PosixLogFile::open(dir.path() / "f.log", true, file).ok());
  ASSERT_TRUE(file->append("line\n").ok());
  ASSERT_TRUE(file->preallocate(1 << 20).ok());
  struct stat info {};
  ASSERT_EQ(::stat((dir.path() / "f.log").c_str(), &info), 0);
  EXPECT_EQ(info.st_size, 5);
  EXPECT_GE(static_cast<std::uint64_t>(info.st_blocks) * 512, 1u << 20);
  ASSERT_TRUE(file->truncate(file->size()).ok());
  ASSERT_EQ(::stat((dir.path() / "f.log").c_str(), &info), 0);
  EXPECT_LT(static_cast<std::uint64_t>(info.st_blocks) * 512, 1u << 20);
}

TEST(PosixPreallocationTest, ARealLogKeepsItsReserveBesideIt) {
  testing::TempDir dir;
  const SigningKey key = SigningKey::generate();
  WriterConfig config;
  config.rotate_bytes = 64 * 1024;
  auto writer = Writer::open(std::make_unique<PosixLogStore>(dir.path()), SigningKey::from_pem(key.private_pem()), config);
  EXPECT_TRUE(writer->reserve_held());
  struct stat info {};
  ASSERT_EQ(::stat((dir.path() / std::string(kReserveFileName)).c_str(), &info), 0);
  EXPECT_GE(static_cast<std::uint64_t>(info.st_blocks) * 512, config.rotate_bytes);
}

}  // namespace
}  // namespace twofold::audit
