// A persona's SMS sends are bounded by its policy's sms_per_hour: a compromised persona cannot
// send as fast as the modem takes them, and one persona's spent budget never limits the other.
#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "mediator_harness.h"
#include "twofold/modem/mediator/token_bucket.h"

namespace twofold::modem::mediator::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::minutes;

MediatorConfig personal_sms_per_hour(std::uint32_t per_hour) {
  MediatorConfig config = default_config();
  config.personas[kPersonal].sms_per_hour = per_hour;
  return config;
}

class SmsBudget : public ::testing::Test {
 protected:
  explicit SmsBudget(std::uint32_t personal_per_hour = 2) : h(personal_sms_per_hour(personal_per_hour)) {
    for (PersonaIndex p : {kPersonal, kSecure}) {
      h.command(p, "ATE0");
      EXPECT_EQ(h.command(p, "AT+CMGF=1;+CMEE=1"), "\r\nOK\r\n");
    }
  }

  // The send command's answer, and after a prompt the body's.
  std::string send(PersonaIndex persona, const std::string& text) {
    const std::string prompt = h.command(persona, "AT+CMGS=\"+4917012345\"");
    if (prompt != "\r\n> ") return prompt;
    h.write(persona, text + "\x1a");
    h.run();
    return h.take(persona);
  }

  std::size_t sent() { return h.modem.state()["sent"].size(); }

  std::size_t budget_refusals() const {
    std::size_t n = 0;
    for (const auto& e : h.audit.events) {
      n += e.kind == "modem.refuse" && e.fields.value("reason", "") == "sms-budget-exhausted" ? 1 : 0;
    }
    return n;
  }

  Harness h;
};

constexpr std::string_view kRefused = "\r\n+CMS ERROR: 302\r\n";

TEST(TokenBucket, TakesTheCapacityThenOnePerRefillPeriod) {
  TokenBucket bucket(2, milliseconds(1000));
  const TokenBucket::Clock::time_point t0{};
  EXPECT_TRUE(bucket.take(t0));
  EXPECT_TRUE(bucket.take(t0));
  EXPECT_FALSE(bucket.take(t0 + milliseconds(999)));
  EXPECT_TRUE(bucket.take(t0 + milliseconds(1000)));
  EXPECT_FALSE(bucket.take(t0 + milliseconds(1000)));
  // A long idle spell refills to the capacity, not beyond.
  EXPECT_TRUE(bucket.take(t0 + minutes(10)));
  EXPECT_TRUE(bucket.take(t0 + minutes(10)));
  EXPECT_FALSE(bucket.take(t0 + minutes(10)));
}

TEST(TokenBucket, RejectsAnEmptyCapacityOrPeriod) {
  EXPECT_THROW(TokenBucket(0, milliseconds(1000)), std::invalid_argument);
  EXPECT_THROW(TokenBucket(1, milliseconds(0)), std::invalid_argument);
}

TEST_F(SmsBudget, SendsBeyondTheBudgetAreRefusedWithCmsErrorAndAudited) {
  EXPECT_NE(send(kPersonal, "one").find("+CMGS: "), std::string::npos);
  EXPECT_NE(send(kPersonal, "two").find("+CMGS: "), std::string::npos);
  EXPECT_EQ(send(kPersonal, "three"), kRefused);
  EXPECT_EQ(sent(), 2U);
  EXPECT_EQ(h.audit.count("modem.sms"), 2U);
  EXPECT_EQ(budget_refusals(), 1U);
}

TEST_F(SmsBudget, ARefusedSendOpensNoBodyPrompt) {
  send(kPersonal, "one");
  send(kPersonal, "two");
  ASSERT_EQ(send(kPersonal, "three"), kRefused);
  // A guest that types its body anyway sends nothing: the text is a malformed command line.
  h.write(kPersonal, "body anyway\x1a\r");
  h.run();
  EXPECT_EQ(h.take(kPersonal), "\r\nERROR\r\n");
  EXPECT_EQ(sent(), 2U);
  EXPECT_EQ(h.command(kPersonal, "AT"), "\r\nOK\r\n");  // the session still works
}

TEST_F(SmsBudget, RefillsOneSendPerShareOfTheHour) {
  send(kPersonal, "one");
  send(kPersonal, "two");
  ASSERT_EQ(send(kPersonal, "three"), kRefused);
  h.advance(minutes(29));
  EXPECT_EQ(send(kPersonal, "early"), kRefused);
  h.advance(minutes(1));  // 2 per hour: one more every 30 minutes
  EXPECT_NE(send(kPersonal, "later").find("+CMGS: "), std::string::npos);
  EXPECT_EQ(send(kPersonal, "again"), kRefused);
  EXPECT_EQ(sent(), 3U);
}

TEST_F(SmsBudget, OnePersonasSpentBudgetDoesNotLimitTheOther) {
  send(kPersonal, "one");
  send(kPersonal, "two");
  ASSERT_EQ(send(kPersonal, "three"), kRefused);
  for (int i = 0; i < 5; ++i) EXPECT_NE(send(kSecure, "secure " + std::to_string(i)).find("+CMGS: "), std::string::npos) << i;
  EXPECT_EQ(sent(), 7U);
}

TEST_F(SmsBudget, StoringAMessageIsNotASend) {
  send(kPersonal, "one");
  send(kPersonal, "two");
  const std::string prompt = h.command(kPersonal, "AT+CMGW=\"+4917012345\"");
  ASSERT_EQ(prompt, "\r\n> ");
  h.write(kPersonal, "draft\x1a");
  h.run();
  EXPECT_NE(h.take(kPersonal).find("+CMGW: "), std::string::npos);
}

}  // namespace
}  // namespace twofold::modem::mediator::testing
