// Audit records of refusals, calls and SMS, with numbers as number_logging says.
#include <gtest/gtest.h>

#include <vector>

#include "twofold/modem/at/command.h"
#include "twofold/modem/mediator/audit_reporter.h"

namespace twofold::modem::mediator {
namespace {

class CollectingSink : public AuditSink {
 public:
  void record(audit::Event event) override { events.push_back(std::move(event)); }
  std::vector<audit::Event> events;
};

std::vector<std::uint8_t> key(std::uint8_t fill) { return std::vector<std::uint8_t>(32, fill); }

at::Command one(std::string_view text) { return at::parse_command_line(text).value().commands.at(0); }

TEST(NumberRedactor, ClearKeepsTheNumber) {
  EXPECT_EQ(NumberRedactor(policy::NumberLogging::clear, {}).redact("+4930123"), "+4930123");
}

TEST(NumberRedactor, OmittedDropsTheNumber) {
  EXPECT_FALSE(NumberRedactor(policy::NumberLogging::omitted, {}).redact("+4930123").has_value());
}

TEST(NumberRedactor, HashedIsAStableKeyedHashWithoutTheDigits) {
  const NumberRedactor a(policy::NumberLogging::hashed, key(1));
  const auto first = a.redact("+4930123456");
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first, a.redact("+4930123456"));
  EXPECT_NE(first, a.redact("+4930123457"));
  EXPECT_EQ(first->find("4930123456"), std::string::npos);
  EXPECT_EQ(first->rfind("hmac-sha256:", 0), 0U);
  EXPECT_EQ(first->size(), std::string("hmac-sha256:").size() + 2 * NumberRedactor::kHashBytes);
  // Another installation's key gives another value: the hash is not a global dictionary.
  EXPECT_NE(first, NumberRedactor(policy::NumberLogging::hashed, key(2)).redact("+4930123456"));
}

TEST(NumberRedactor, HashedMatchesHmacSha256KnownAnswer) {
  // RFC 4231 test case 2 uses a 4-byte key, below our minimum; this is the same HMAC with
  // key 0x0b*20 (test case 1) over "Hi There": b0344c61d8db38535ca8afceaf0bf12b...
  const NumberRedactor r(policy::NumberLogging::hashed, std::vector<std::uint8_t>(20, 0x0b));
  EXPECT_EQ(r.redact("Hi There"), "hmac-sha256:b0344c61d8db38535ca8afceaf0bf12b");
}

TEST(NumberRedactor, HashedRefusesAShortKey) {
  EXPECT_THROW(NumberRedactor(policy::NumberLogging::hashed, std::vector<std::uint8_t>(8, 1)),
               std::invalid_argument);
}

TEST(AuditReporter, RefusedDialCarriesReasonFamilyAndHashedNumber) {
  CollectingSink sink;
  AuditReporter reporter(sink, NumberRedactor(policy::NumberLogging::hashed, key(7)));
  reporter.refused("personal", one("ATD+4930123456;"),
                   Refusal{RefusalReason::kDialNotAllowed, 0, policy::AtFamily::call});
  ASSERT_EQ(sink.events.size(), 1U);
  const audit::Event& e = sink.events[0];
  EXPECT_EQ(e.kind, "modem.refuse");
  EXPECT_EQ(e.persona, "personal");
  EXPECT_EQ(e.fields["command"], "D");
  EXPECT_EQ(e.fields["reason"], "dial-not-allowed");
  EXPECT_EQ(e.fields["family"], "call");
  EXPECT_EQ(e.fields["number"], *NumberRedactor(policy::NumberLogging::hashed, key(7)).redact("+4930123456"));
  EXPECT_EQ(e.fields.dump().find("4930123456"), std::string::npos);
}

TEST(AuditReporter, RefusedSmsSendWithOmittedNumberHasNoNumberField) {
  CollectingSink sink;
  AuditReporter reporter(sink, NumberRedactor(policy::NumberLogging::omitted, {}));
  reporter.refused("personal", one("AT+CMGS=\"+4917012345\""),
                   Refusal{RefusalReason::kFamilyNotAllowed, 0, policy::AtFamily::sms});
  ASSERT_EQ(sink.events.size(), 1U);
  EXPECT_FALSE(sink.events[0].fields.contains("number"));
  EXPECT_EQ(sink.events[0].fields["command"], "+CMGS");
  EXPECT_EQ(sink.events[0].fields["form"], "set");
}

TEST(AuditReporter, RefusedReservedCommandHasNoFamily) {
  CollectingSink sink;
  AuditReporter reporter(sink, NumberRedactor(policy::NumberLogging::clear, {}));
  reporter.refused("secure", one("AT+CFUN=0"), Refusal{RefusalReason::kReservedToDom0, 0, std::nullopt});
  ASSERT_EQ(sink.events.size(), 1U);
  EXPECT_EQ(sink.events[0].fields["reason"], "reserved-to-dom0");
  EXPECT_FALSE(sink.events[0].fields.contains("family"));
  EXPECT_TRUE(audit::valid_kind(sink.events[0].kind));
}

TEST(AuditReporter, CallAndSmsRecordsNameTheDirectionAndPersona) {
  CollectingSink sink;
  AuditReporter reporter(sink, NumberRedactor(policy::NumberLogging::clear, {}));
  reporter.call("secure", CallDirection::kIncoming, "+4930999");
  reporter.sms("personal", CallDirection::kOutgoing, "+4917111");
  ASSERT_EQ(sink.events.size(), 2U);
  EXPECT_EQ(sink.events[0].kind, "modem.call");
  EXPECT_EQ(sink.events[0].persona, "secure");
  EXPECT_EQ(sink.events[0].fields["direction"], "incoming");
  EXPECT_EQ(sink.events[0].fields["number"], "+4930999");
  EXPECT_EQ(sink.events[1].kind, "modem.sms");
  EXPECT_EQ(sink.events[1].fields["direction"], "outgoing");
}

}  // namespace
}  // namespace twofold::modem::mediator
