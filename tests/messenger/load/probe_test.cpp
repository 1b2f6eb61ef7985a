// The load test's parser of what the server delivers (probe.h): hostile stanzas are rejected
// with the right kind, a good one becomes a Probe; and the ledger's counts.
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "ledger.h"
#include "probe.h"

namespace twofold::messenger::load {
namespace {

struct CtxDeleter {
  void operator()(xmpp_ctx_t* c) const { xmpp_ctx_free(c); }
};
struct StanzaDeleter {
  void operator()(xmpp_stanza_t* s) const { xmpp_stanza_release(s); }
};

constexpr std::int64_t kStart = 1'000'000;
constexpr std::int64_t kNow = 5'000'000;

class ProbeTest : public ::testing::Test {
 protected:
  std::unique_ptr<xmpp_ctx_t, CtxDeleter> ctx{xmpp_ctx_new(nullptr, nullptr)};
  RunShape shape{"officer", "messages.test", 10, 4, 3, kStart};

  ParsedProbe parse(const std::string& xml, std::uint32_t receiver) {
    std::unique_ptr<xmpp_stanza_t, StanzaDeleter> s(xmpp_stanza_new_from_string(ctx.get(), xml.c_str()));
    return parse_probe(s.get(), shape, receiver, kNow);
  }
  static std::string message(const std::string& from, const std::string& to, const std::string& probe_attrs,
                             const std::string& body = "xxx", const std::string& type = "chat") {
    return "<message type='" + type + "' from='" + from + "' to='" + to + "' id='p'><body>" + body +
           "</body><probe xmlns='urn:twofold:load:0' " + probe_attrs + "/></message>";
  }
  static RejectKind kind(const ParsedProbe& p) { return std::get<Rejection>(p).kind; }
};

TEST_F(ProbeTest, well_formed_probe_is_accepted) {
  auto p = parse(message("officer3@messages.test/load", "officer4@messages.test/load", "sender='3' seq='2' sent='2000000'"), 4);
  ASSERT_TRUE(std::holds_alternative<Probe>(p));
  EXPECT_EQ(std::get<Probe>(p).sender, 3u);
  EXPECT_EQ(std::get<Probe>(p).seq, 2u);
  EXPECT_EQ(std::get<Probe>(p).sent_ns, 2000000);
}

TEST_F(ProbeTest, odd_numbers_go_two_officers_on) {
  auto p = parse(message("officer9@messages.test/load", "officer1@messages.test", "sender='9' seq='1' sent='2000000'"), 1);
  EXPECT_TRUE(std::holds_alternative<Probe>(p));
}

TEST_F(ProbeTest, claimed_sender_other_than_the_servers_from_is_forged) {
  EXPECT_EQ(kind(parse(message("officer3@messages.test/load", "officer4@messages.test", "sender='2' seq='2' sent='2000000'"), 4)),
            RejectKind::forged);
}

TEST_F(ProbeTest, sender_outside_the_run_is_malformed) {
  EXPECT_EQ(kind(parse(message("officer10@messages.test", "officer1@messages.test", "sender='10' seq='0' sent='2000000'"), 1)),
            RejectKind::malformed);
  EXPECT_EQ(kind(parse(message("officer03@messages.test", "officer4@messages.test", "sender='3' seq='0' sent='2000000'"), 4)),
            RejectKind::malformed);
  EXPECT_EQ(kind(parse(message("officer3@evil.test", "officer4@messages.test", "sender='3' seq='0' sent='2000000'"), 4)),
            RejectKind::malformed);
}

TEST_F(ProbeTest, message_for_another_officer_is_misrouted) {
  EXPECT_EQ(kind(parse(message("officer3@messages.test", "officer5@messages.test", "sender='3' seq='0' sent='2000000'"), 4)),
            RejectKind::misrouted);
  // Right connection, but seq 1 of officer 3 was meant for officer 5.
  EXPECT_EQ(kind(parse(message("officer3@messages.test", "officer4@messages.test", "sender='3' seq='1' sent='2000000'"), 4)),
            RejectKind::misrouted);
}

TEST_F(ProbeTest, numbers_out_of_range_or_with_junk_are_malformed) {
  const std::string from = "officer3@messages.test", to = "officer4@messages.test";
  EXPECT_EQ(kind(parse(message(from, to, "sender='3' seq='4' sent='2000000'"), 4)), RejectKind::malformed);
  EXPECT_EQ(kind(parse(message(from, to, "sender='3' seq='-2' sent='2000000'"), 4)), RejectKind::malformed);
  EXPECT_EQ(kind(parse(message(from, to, "sender='3' seq='2 ' sent='2000000'"), 4)), RejectKind::malformed);
  EXPECT_EQ(kind(parse(message(from, to, "sender='3' seq='2' sent='999999'"), 4)), RejectKind::malformed);
  EXPECT_EQ(kind(parse(message(from, to, "sender='3' seq='2' sent='5000001'"), 4)), RejectKind::malformed);
  EXPECT_EQ(kind(parse(message(from, to, "sender='3' seq='2' sent='99999999999999999999999'"), 4)), RejectKind::malformed);
  EXPECT_EQ(kind(parse(message(from, to, "sender='3' seq='2'"), 4)), RejectKind::malformed);
}

TEST_F(ProbeTest, altered_or_resized_body_is_malformed) {
  const std::string from = "officer3@messages.test", to = "officer4@messages.test", probe = "sender='3' seq='2' sent='2000000'";
  EXPECT_EQ(kind(parse(message(from, to, probe, "xxxx"), 4)), RejectKind::malformed);
  EXPECT_EQ(kind(parse(message(from, to, probe, "xyx"), 4)), RejectKind::malformed);
}

TEST_F(ProbeTest, error_and_other_types_are_rejected) {
  const std::string from = "officer3@messages.test", to = "officer4@messages.test", probe = "sender='3' seq='2' sent='2000000'";
  EXPECT_EQ(kind(parse(message(from, to, probe, "xxx", "error"), 4)), RejectKind::bounced);
  EXPECT_EQ(kind(parse(message(from, to, probe, "xxx", "headline"), 4)), RejectKind::malformed);
  EXPECT_EQ(kind(parse("<message type='chat' from='officer3@messages.test' to='officer4@messages.test'><body>xxx</body></message>", 4)),
            RejectKind::malformed);
  EXPECT_EQ(kind(parse("<iq type='get'/>", 4)), RejectKind::malformed);
}

TEST_F(ProbeTest, null_stanza_is_rejected_not_dereferenced) {
  EXPECT_EQ(kind(parse_probe(nullptr, shape, 0, kNow)), RejectKind::malformed);
}

class UnitProbeTest : public ProbeTest {
 protected:
  // Units of 5: officers 0-4 and 5-9; every 2nd message (odd seq) goes to the unit.
  void SetUp() override {
    shape.unit_size = 5;
    shape.group_every = 2;
  }
};

TEST_F(UnitProbeTest, unit_message_reaches_every_other_member_only) {
  EXPECT_EQ(recipients_of(shape, 6, 1), (std::vector<std::uint32_t>{5, 7, 8, 9}));
  EXPECT_EQ(recipients_of(shape, 6, 0), (std::vector<std::uint32_t>{7}));
  EXPECT_EQ(planned_deliveries(shape), 10u * (2 * 1 + 2 * 4));
}

TEST_F(UnitProbeTest, unit_message_to_a_member_is_accepted) {
  auto p = parse(message("officer6@messages.test", "officer9@messages.test", "sender='6' seq='1' sent='2000000' group='unit-1'"), 9);
  ASSERT_TRUE(std::holds_alternative<Probe>(p));
  EXPECT_TRUE(std::get<Probe>(p).group);
}

TEST_F(UnitProbeTest, unit_message_outside_the_unit_is_misrouted) {
  EXPECT_EQ(kind(parse(message("officer6@messages.test", "officer4@messages.test", "sender='6' seq='1' sent='2000000' group='unit-1'"), 4)),
            RejectKind::misrouted);
}

TEST_F(UnitProbeTest, wrong_or_missing_or_extra_group_is_malformed) {
  const std::string from = "officer6@messages.test", to = "officer9@messages.test";
  EXPECT_EQ(kind(parse(message(from, to, "sender='6' seq='1' sent='2000000' group='unit-0'"), 9)), RejectKind::malformed);
  EXPECT_EQ(kind(parse(message(from, to, "sender='6' seq='1' sent='2000000'"), 9)), RejectKind::malformed);
  EXPECT_EQ(kind(parse(message(from, "officer7@messages.test", "sender='6' seq='0' sent='2000000' group='unit-1'"), 7)),
            RejectKind::malformed);
}

TEST(Ledger, unit_message_counts_one_delivery_per_member) {
  RunShape shape{"officer", "messages.test", 4, 2, 0, 0, 4, 2};
  Ledger ledger(shape, {0, 1, 0, 1});
  ledger.record_sent(0, 1);  // to officers 1, 2, 3
  EXPECT_EQ(ledger.record_received(Probe{0, 2, 1, 100, true}, 200), Ledger::Receipt::fresh);
  EXPECT_EQ(ledger.record_received(Probe{0, 2, 1, 100, true}, 300), Ledger::Receipt::duplicate);
  EXPECT_EQ(ledger.record_received(Probe{0, 3, 1, 100, true}, 300), Ledger::Receipt::fresh);
  const Summary s = ledger.summary();
  EXPECT_EQ(s.sent, 3u);
  EXPECT_EQ(s.received, 2u);
  EXPECT_EQ(s.lost, 1u);
  EXPECT_EQ(s.group.count, 2u);
}

TEST(Ledger, lost_duplicate_and_invented_are_told_apart) {
  RunShape shape{"officer", "messages.test", 3, 2, 0, 0};
  Ledger ledger(shape, {0, 1, 0});
  ledger.record_sent(0, 0);  // to officer 1: cross-node
  ledger.record_sent(0, 1);  // to officer 2: same node, never arrives
  EXPECT_EQ(ledger.record_received(Probe{0, 1, 0, 100}, 1'000'100), Ledger::Receipt::fresh);
  EXPECT_EQ(ledger.record_received(Probe{0, 1, 0, 100}, 1'000'200), Ledger::Receipt::duplicate);
  EXPECT_EQ(ledger.record_received(Probe{1, 2, 0, 100}, 1'000'200), Ledger::Receipt::invented);
  const Summary s = ledger.summary();
  EXPECT_EQ(s.sent, 2u);
  EXPECT_EQ(s.received, 1u);
  EXPECT_EQ(s.lost, 1u);
  EXPECT_EQ(s.duplicated, 1u);
  EXPECT_EQ(s.invented, 1u);
  EXPECT_EQ(s.cross_node.count, 1u);
  EXPECT_EQ(s.same_node.count, 0u);
  EXPECT_DOUBLE_EQ(s.all.max_ms, 1.0);
}

TEST(Ledger, nearest_rank_percentiles) {
  std::vector<std::int64_t> ns;
  for (std::int64_t i = 1; i <= 100; ++i) ns.push_back(i * 1'000'000);
  const LatencyStats s = latency_stats(ns);
  EXPECT_DOUBLE_EQ(s.p50_ms, 50.0);
  EXPECT_DOUBLE_EQ(s.p99_ms, 99.0);
  EXPECT_DOUBLE_EQ(s.max_ms, 100.0);
}

}  // namespace
}  // namespace twofold::messenger::load
