// Writer behaviour: record format, chain, checkpoints, rotation, resume, input rules.

#include <gtest/gtest.h>

#include <cmath>

#include "audit_test_support.h"
#include "twofold/audit/verifier.h"

namespace twofold::audit {
namespace {

using nlohmann::json;

class WriterTest : public ::testing::Test {
 protected:
  std::unique_ptr<Writer> open_writer(WriterConfig config) {
    return Writer::open(std::make_unique<testing::MemoryLogStore>(state_), SigningKey::from_pem(key_.private_pem()),
                        config, clock_.clock());
  }
  static WriterConfig every(std::uint64_t records) {
    WriterConfig config;
    config.checkpoint_every_records = records;
    config.checkpoint_every = std::chrono::hours(1);
    return config;
  }
  std::vector<std::string> lines(std::uint64_t index = 0) {
    std::vector<std::string> out;
    std::istringstream in(state_->files[log_file_name(index)]);
    for (std::string line; std::getline(in, line);) out.push_back(line);
    return out;
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

TEST_F(WriterTest, NewLogStartsWithAGenesisHeader) {
  auto writer = open_writer(every(4));
  const json header = json::parse(lines().at(0));
  EXPECT_EQ(header["type"], "header");
  EXPECT_EQ(header["file"], 0);
  EXPECT_EQ(header["prev_seq"], 0);
  EXPECT_EQ(header["prev_chain"], to_hex(genesis_chain()));
}

TEST_F(WriterTest, RecordLineIsCanonicalJsonWithSortedKeysAndItsChainHash) {
  auto writer = open_writer(every(4));
  std::uint64_t sequence = 0;
  ASSERT_TRUE(writer->append(Event{"policy.load", std::nullopt, {{"file", "/etc/twofold/policy.toml"}}}, &sequence).ok());
  EXPECT_EQ(sequence, 1u);
  const std::string line = lines().at(1);
  const json record = json::parse(line);
  EXPECT_EQ(line, record.dump());
  EXPECT_EQ(line.find("{\"chain\":"), 0u);
  EXPECT_FALSE(record.contains("persona"));
  json without_chain = record;
  without_chain.erase("chain");
  EXPECT_EQ(record["chain"], to_hex(chain_hash(genesis_chain(), leaf_hash(without_chain.dump()))));
}

TEST_F(WriterTest, CheckpointIsWrittenAfterEveryNRecords) {
  auto writer = open_writer(every(3));
  for (int n = 1; n <= 7; ++n) ASSERT_TRUE(writer->append(testing::event("switch", n)).ok());
  const auto all = lines();
  ASSERT_EQ(all.size(), 1u + 7u + 2u);
  EXPECT_EQ(json::parse(all[4])["type"], "checkpoint");
  EXPECT_EQ(json::parse(all[4])["seq"], 3);
  EXPECT_EQ(json::parse(all[8])["seq"], 6);
  EXPECT_EQ(writer->last_sealed_sequence(), 6u);
}

TEST_F(WriterTest, CheckpointIsWrittenWhenThePeriodElapses) {
  WriterConfig config = every(1000);
  config.checkpoint_every = std::chrono::seconds(10);
  auto writer = open_writer(config);
  ASSERT_TRUE(writer->append(testing::event("switch", 1)).ok());
  EXPECT_TRUE(writer->checkpoint_if_due().ok());
  EXPECT_EQ(writer->last_sealed_sequence(), 0u);
  *clock_.now += 11'000'000'000;
  EXPECT_TRUE(writer->checkpoint_if_due().ok());
  EXPECT_EQ(writer->last_sealed_sequence(), 1u);
}

TEST_F(WriterTest, CheckpointSignatureVerifiesWithThePublicKey) {
  auto writer = open_writer(every(1));
  ASSERT_TRUE(writer->append(testing::event("persona.start", 1)).ok());
  const json checkpoint = json::parse(lines().at(2));
  const auto chain = *digest_from_hex(checkpoint["chain"].get<std::string>());
  const std::string message = checkpoint_message(1, chain, checkpoint["ts"].get<std::int64_t>(), key_.key_id());
  Signature signature{};
  ASSERT_TRUE(bytes_from_hex(checkpoint["sig"].get<std::string>(), signature));
  const auto verify_key = VerifyKey::from_pem(key_.public_pem());
  EXPECT_TRUE(verify_key.verify(
      std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(message.data()), message.size()),
      signature));
  EXPECT_EQ(checkpoint["key_id"], key_.key_id());
}

TEST_F(WriterTest, RotationSealsTheFullFileAndLinksTheNextHeader) {
  WriterConfig config = every(1000);
  config.rotate_bytes = 500;
  auto writer = open_writer(config);
  for (int n = 1; n <= 6; ++n) ASSERT_TRUE(writer->append(testing::event("switch", n)).ok());
  ASSERT_TRUE(state_->files.contains(log_file_name(1)));
  const auto first = lines(0);
  const json seal = json::parse(first.back());
  const json header = json::parse(lines(1).at(0));
  EXPECT_EQ(seal["type"], "checkpoint");
  EXPECT_EQ(header["file"], 1);
  EXPECT_EQ(header["prev_seq"], seal["seq"]);
  EXPECT_EQ(header["prev_chain"], seal["chain"]);
  EXPECT_TRUE(verify_memory().intact());
}

TEST_F(WriterTest, ReopenedWriterContinuesTheSequenceAndChain) {
  {
    auto writer = open_writer(every(2));
    for (int n = 1; n <= 3; ++n) ASSERT_TRUE(writer->append(testing::event("switch", n)).ok());
  }
  auto writer = open_writer(every(2));
  EXPECT_EQ(writer->last_sequence(), 3u);
  std::uint64_t sequence = 0;
  ASSERT_TRUE(writer->append(testing::event("switch", 4), &sequence).ok());
  EXPECT_EQ(sequence, 4u);
  const VerifyReport report = verify_memory();
  EXPECT_TRUE(report.intact()) << report.first_bad->detail;
  EXPECT_EQ(report.records, 4u);
  EXPECT_EQ(report.unsealed_records, 0u);
}

TEST_F(WriterTest, ReopenCutsATornLastLineAndRecordsTheRecovery) {
  {
    auto writer = open_writer(every(100));
    ASSERT_TRUE(writer->append(testing::event("switch", 1)).ok());
  }
  state_->files[log_file_name(0)] += R"({"chain":"0123)";  // a crash mid-write
  auto writer = open_writer(every(100));
  const json recovered = json::parse(lines().back());
  EXPECT_EQ(recovered["kind"], "audit.recovered");
  EXPECT_EQ(recovered["fields"]["discarded_bytes"], 14);
  EXPECT_TRUE(verify_memory().intact());
}

TEST_F(WriterTest, ReopenRebuildsAHeaderLostInACrashDuringRotation) {
  {
    WriterConfig config = every(1000);
    config.rotate_bytes = 500;
    auto writer = open_writer(config);
    for (int n = 1; n <= 4; ++n) ASSERT_TRUE(writer->append(testing::event("switch", n)).ok());
    ASSERT_TRUE(writer->seal().ok());  // the writer seals a file before it creates the next
  }
  ASSERT_TRUE(state_->files.contains(log_file_name(1)));
  state_->files[log_file_name(2)] = R"({"file":2,"prev)";  // header torn by the crash
  auto writer = open_writer(every(1000));
  ASSERT_TRUE(writer->append(testing::event("switch", 5)).ok());
  ASSERT_TRUE(writer->seal().ok());
  const VerifyReport report = verify_memory();
  EXPECT_TRUE(report.intact()) << report.first_bad->detail;
}

TEST_F(WriterTest, ClockGoingBackwardsIsClampedSoTheLogStaysMonotonic) {
  auto writer = open_writer(every(100));
  ASSERT_TRUE(writer->append(testing::event("switch", 1)).ok());
  *clock_.now -= 60'000'000'000;  // NTP steps the clock back a minute
  ASSERT_TRUE(writer->append(testing::event("switch", 2)).ok());
  EXPECT_EQ(writer->clock_regressions(), 1u);
  const auto all = lines();
  EXPECT_EQ(json::parse(all[2])["ts"], json::parse(all[1])["ts"]);
  EXPECT_TRUE(verify_memory().intact());
}

TEST_F(WriterTest, InvalidKindIsRejectedWithoutStoppingTheWriter) {
  auto writer = open_writer(every(100));
  const Status status = writer->append(Event{"Bad Kind", std::nullopt, json::object()});
  EXPECT_EQ(status.code(), ErrorCode::invalid_event);
  EXPECT_FALSE(writer->failed());
  EXPECT_TRUE(writer->append(testing::event("switch", 1)).ok());
}

TEST_F(WriterTest, InvalidPersonaIsRejected) {
  auto writer = open_writer(every(100));
  EXPECT_EQ(writer->append(Event{"switch", std::string("../etc"), json::object()}).code(), ErrorCode::invalid_event);
}

TEST_F(WriterTest, NonObjectFieldsAreRejected) {
  auto writer = open_writer(every(100));
  EXPECT_EQ(writer->append(Event{"switch", std::nullopt, json::array({1, 2})}).code(), ErrorCode::invalid_event);
}

TEST_F(WriterTest, NonFiniteNumberThatCouldNotBeVerifiedIsRejected) {
  auto writer = open_writer(every(100));
  EXPECT_EQ(writer->append(Event{"switch", std::nullopt, {{"x", std::nan("")}}}).code(), ErrorCode::invalid_event);
  EXPECT_EQ(lines().size(), 1u);
}

TEST_F(WriterTest, InvalidUtf8InFieldsIsRejected) {
  auto writer = open_writer(every(100));
  EXPECT_EQ(writer->append(Event{"modem.refuse", std::nullopt, {{"at", std::string("AT\xff\xfe")}}}).code(),
            ErrorCode::invalid_event);
}

TEST_F(WriterTest, OverlongRecordIsRejected) {
  auto writer = open_writer(every(100));
  EXPECT_EQ(writer->append(Event{"switch", std::nullopt, {{"blob", std::string(kMaxLineBytes, 'a')}}}).code(),
            ErrorCode::invalid_event);
}

TEST_F(WriterTest, GuestStringsWithQuotesAndNewlinesStayOnOneLine) {
  auto writer = open_writer(every(100));
  ASSERT_TRUE(writer->append(Event{"modem.refuse", std::string("personal"),
                                   {{"at", "AT+CMGS=\"1\"\n{\"type\":\"checkpoint\"}"}}}).ok());
  EXPECT_EQ(lines().size(), 2u);
  EXPECT_TRUE(verify_memory().intact());
}

TEST(LogFileNameTest, RoundTripsAndRejectsOtherSpellings) {
  EXPECT_EQ(log_file_name(12), "audit-00000012.log");
  EXPECT_EQ(parse_log_file_name("audit-00000012.log"), 12u);
  EXPECT_FALSE(parse_log_file_name("audit-12.log").has_value());
  EXPECT_FALSE(parse_log_file_name("audit-000000012.log").has_value());
  EXPECT_FALSE(parse_log_file_name("audit-0000001x.log").has_value());
}

TEST(HashTest, LeafAndChainHashesAreDomainSeparated) {
  const Digest a = sha256({});
  const std::string joined(reinterpret_cast<const char*>(a.data()), a.size());
  // The same 32 bytes hashed as a leaf and as the right half of a link must differ.
  EXPECT_NE(leaf_hash(joined + joined), chain_hash(a, a));
  EXPECT_EQ(to_hex(genesis_chain()), to_hex(sha256(std::span<const std::uint8_t>(
                                         reinterpret_cast<const std::uint8_t*>(kGenesisLabel.data()),
                                         kGenesisLabel.size()))));
}

TEST(HashTest, HexParsingIsStrict) {
  EXPECT_FALSE(digest_from_hex(std::string(64, 'A')).has_value());
  EXPECT_FALSE(digest_from_hex(std::string(63, 'a')).has_value());
  EXPECT_TRUE(digest_from_hex(std::string(64, 'a')).has_value());
}

TEST(FormatTest, DeeplyNestedLineIsRejectedBeforeParsing) {
  std::string line = R"({"chain":"x","fields":)";
  line += std::string(1000, '[') + std::string(1000, ']') + "}";
  EXPECT_TRUE(std::holds_alternative<ParseError>(parse_line(line)));
}

}  // namespace
}  // namespace twofold::audit
