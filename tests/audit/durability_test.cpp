// Fail closed: a write or sync error is reported to the caller, the writer accepts no more
// records, and what is on disk still verifies.

#include <gtest/gtest.h>

#include <cerrno>

#include "audit_test_support.h"
#include "twofold/audit/verifier.h"

namespace twofold::audit {
namespace {

class DurabilityTest : public ::testing::Test {
 protected:
  std::unique_ptr<Writer> open_writer() {
    WriterConfig config;
    config.checkpoint_every_records = 2;
    config.checkpoint_every = std::chrono::hours(1);
    return Writer::open(std::make_unique<testing::MemoryLogStore>(state_), SigningKey::from_pem(key_.private_pem()),
                        config, clock_.clock());
  }
  VerifyReport verify_memory() {
    VerifyOptions options;
    options.public_key = VerifyKey::from_pem(key_.public_pem());
    return verify_buffers(testing::memory_files(*state_), options);
  }

  std::shared_ptr<testing::MemoryState> state_ = std::make_shared<testing::MemoryState>();
  testing::SteppingClock clock_;
  SigningKey key_ = SigningKey::generate();
};

TEST_F(DurabilityTest, FullDiskDuringAppendIsReportedWithItsErrno) {
  auto writer = open_writer();
  ASSERT_TRUE(writer->append(testing::event("switch", 1)).ok());
  state_->fail_append_errno = ENOSPC;
  state_->fail_after_bytes = 40;
  const Status status = writer->append(testing::event("switch", 2));
  EXPECT_EQ(status.code(), ErrorCode::io);
  EXPECT_EQ(status.sys_errno(), ENOSPC);
  EXPECT_TRUE(writer->failed());
}

TEST_F(DurabilityTest, WriterRefusesRecordsAfterAWriteError) {
  auto writer = open_writer();
  state_->fail_append_errno = EIO;
  ASSERT_FALSE(writer->append(testing::event("switch", 1)).ok());
  state_->fail_append_errno = 0;  // the disk recovers, the writer must not silently resume
  EXPECT_EQ(writer->append(testing::event("switch", 2)).code(), ErrorCode::writer_failed);
  EXPECT_EQ(writer->seal().code(), ErrorCode::writer_failed);
}

TEST_F(DurabilityTest, TornBytesOfAFailedWriteAreCutSoTheLogStillVerifies) {
  auto writer = open_writer();
  ASSERT_TRUE(writer->append(testing::event("switch", 1)).ok());
  state_->fail_append_errno = ENOSPC;
  state_->fail_after_bytes = 40;
  ASSERT_FALSE(writer->append(testing::event("switch", 2)).ok());
  const VerifyReport report = verify_memory();
  EXPECT_TRUE(report.intact()) << report.first_bad->detail;
  EXPECT_EQ(report.last_sequence, 1u);
  EXPECT_EQ(report.torn_tail_bytes, 0u);
}

TEST_F(DurabilityTest, SyncFailureIsReported) {
  auto writer = open_writer();
  state_->fail_sync_errno = EIO;
  const Status status = writer->append(testing::event("switch", 1));
  EXPECT_EQ(status.code(), ErrorCode::io);
  EXPECT_EQ(status.sys_errno(), EIO);
}

TEST_F(DurabilityTest, EveryRecordIsSyncedUnderTheDefaultPolicy) {
  auto writer = open_writer();
  const int before = state_->syncs;
  ASSERT_TRUE(writer->append(testing::event("switch", 1)).ok());
  EXPECT_EQ(state_->syncs, before + 1);
}

TEST_F(DurabilityTest, RotationFailureIsReportedAndStopsTheWriter) {
  WriterConfig config;
  config.rotate_bytes = 300;
  auto writer = Writer::open(std::make_unique<testing::MemoryLogStore>(state_), SigningKey::from_pem(key_.private_pem()),
                             config, clock_.clock());
  ASSERT_TRUE(writer->append(testing::event("switch", 1)).ok());
  state_->fail_create_errno = ENOSPC;
  EXPECT_EQ(writer->append(testing::event("switch", 2)).sys_errno(), ENOSPC);
  EXPECT_TRUE(writer->failed());
}

TEST(PosixLogFileTest, WriteToDevFullReportsEnospc) {
  std::unique_ptr<LogFile> file;
  ASSERT_TRUE(PosixLogFile::open("/dev/full", false, file).ok());
  const Status status = file->append("{\"type\":\"record\"}\n");
  EXPECT_EQ(status.code(), ErrorCode::io);
  EXPECT_EQ(status.sys_errno(), ENOSPC);
}

TEST(PosixLogFileTest, WriterOnARealDirectoryProducesAVerifiableLog) {
  testing::TempDir dir;
  const SigningKey key = SigningKey::generate();
  {
    auto writer = Writer::open(std::make_unique<PosixLogStore>(dir.path() / "log"), SigningKey::from_pem(key.private_pem()),
                               WriterConfig{});
    ASSERT_TRUE(writer->append(Event{"persona.start", std::string("personal"), {{"domid", 3}}}).ok());
    ASSERT_TRUE(writer->seal().ok());
  }
  VerifyOptions options;
  options.public_key = VerifyKey::from_pem(key.public_pem());
  const VerifyReport report = verify({dir.path() / "log"}, options);
  EXPECT_TRUE(report.intact()) << report.first_bad->detail;
  EXPECT_EQ(report.checkpoints, 1u);
}

}  // namespace
}  // namespace twofold::audit
