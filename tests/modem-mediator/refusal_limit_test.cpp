// A flood of refused lines is audited within a per-persona budget, the excess counted in
// summary records: nothing unaccounted, and one persona's flood never costs the other's
// records or its answers.
#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "mediator_harness.h"
#include "twofold/modem/mediator/refusal_limiter.h"

namespace twofold::modem::mediator::testing {
namespace {

using std::chrono::milliseconds;
using Clock = RefusalLimiter::Clock;

std::size_t occurrences_of(const std::string& haystack, std::string_view needle) {
  std::size_t n = 0;
  for (auto pos = haystack.find(needle); pos != std::string::npos; pos = haystack.find(needle, pos + 1)) ++n;
  return n;
}

constexpr RefusalLimits kLimits{3, milliseconds(1000), milliseconds(5000)};

TEST(RefusalLimiter, AdmitsTheBurstThenCounts) {
  RefusalLimiter limiter(2, kLimits);
  const Clock::time_point t0{};
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(limiter.admit(0, t0)) << i;
  EXPECT_FALSE(limiter.admit(0, t0));
  EXPECT_FALSE(limiter.admit(0, t0 + milliseconds(999)));
  EXPECT_TRUE(limiter.due(t0 + milliseconds(4999)).empty());
  const auto due = limiter.due(t0 + milliseconds(5000));
  ASSERT_EQ(due.size(), 1U);
  EXPECT_EQ(due[0].persona, 0U);
  EXPECT_EQ(due[0].count, 2U);
  EXPECT_TRUE(limiter.due(t0 + milliseconds(10000)).empty());  // counts restart after a summary
}

TEST(RefusalLimiter, RefillsOneRecordPerPeriodUpToTheBurst) {
  RefusalLimiter limiter(1, kLimits);
  const Clock::time_point t0{};
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(limiter.admit(0, t0));
  EXPECT_FALSE(limiter.admit(0, t0 + milliseconds(500)));
  EXPECT_TRUE(limiter.admit(0, t0 + milliseconds(1000)));
  EXPECT_FALSE(limiter.admit(0, t0 + milliseconds(1500)));
  // A long quiet spell refills to the burst, not beyond.
  const auto later = t0 + milliseconds(60000);
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(limiter.admit(0, later)) << i;
  EXPECT_FALSE(limiter.admit(0, later));
}

TEST(RefusalLimiter, EachPersonaHasItsOwnBudget) {
  RefusalLimiter limiter(2, kLimits);
  const Clock::time_point t0{};
  for (int i = 0; i < 100; ++i) limiter.admit(0, t0);
  EXPECT_TRUE(limiter.admit(1, t0));
  const auto all = limiter.take_all();
  ASSERT_EQ(all.size(), 1U);
  EXPECT_EQ(all[0].persona, 0U);
  EXPECT_EQ(all[0].count, 97U);
  EXPECT_TRUE(limiter.take_all().empty());
}

TEST(RefusalLimiter, ZeroLimitsAreRefused) {
  EXPECT_THROW(RefusalLimiter(1, RefusalLimits{0, milliseconds(1000), milliseconds(1000)}), std::invalid_argument);
  EXPECT_THROW(RefusalLimiter(1, RefusalLimits{1, milliseconds(0), milliseconds(1000)}), std::invalid_argument);
}

std::uint64_t summarised(const CollectingSink& audit, std::string_view persona) {
  std::uint64_t n = 0;
  for (const auto& e : audit.events) {
    if (e.kind == "modem.refuse" && e.persona == persona && e.fields.value("reason", "") == "suppressed") {
      n += e.fields.at("count").get<std::uint64_t>();
    }
  }
  return n;
}

std::size_t individual(const CollectingSink& audit, std::string_view persona) {
  std::size_t n = 0;
  for (const auto& e : audit.events) {
    n += e.kind == "modem.refuse" && e.persona == persona && e.fields.value("reason", "") != "suppressed" ? 1U : 0U;
  }
  return n;
}

MediatorConfig config_with(RefusalLimits limits) {
  MediatorConfig config = default_config();
  config.refusal_limits = limits;
  return config;
}

TEST(MediatorRefusalBudget, FloodIsAuditedWithinItsBudgetAndEveryRefusalIsCounted) {
  Harness h(config_with(RefusalLimits{5, milliseconds(1000), milliseconds(2000)}));
  ASSERT_EQ(h.command(kSecure, "ATE0"), "ATE0\r\r\nOK\r\n");
  std::string flood;
  for (int i = 0; i < 40; ++i) flood += (i % 2 == 0) ? "AT+CFUN=0\r" : "AT\x01garbage\r";
  h.write(kPersonal, flood);
  h.run();
  EXPECT_EQ(occurrences_of(h.take(kPersonal), "ERROR"), 40U);  // every line still answered
  EXPECT_EQ(individual(h.audit, "personal"), 5U);
  EXPECT_EQ(h.mediator().stats().refusals_suppressed, 35U);
  // The other persona's refusal is recorded in full, during the flood's window.
  EXPECT_EQ(h.command(kSecure, "AT+CFUN=0"), "\r\nERROR\r\n");
  EXPECT_EQ(individual(h.audit, "secure"), 1U);
  EXPECT_EQ(summarised(h.audit, "personal"), 0U);
  h.advance(milliseconds(2000));
  EXPECT_EQ(summarised(h.audit, "personal"), 35U);
  EXPECT_EQ(summarised(h.audit, "secure"), 0U);
}

TEST(MediatorRefusalBudget, CountsNotYetSummarisedAreFlushedOnRequest) {
  Harness h(config_with(RefusalLimits{1, milliseconds(1000), milliseconds(60000)}));
  h.write(kPersonal, "AT+CFUN=0\rAT+CFUN=0\rAT+CFUN=0\r");
  h.run();
  EXPECT_EQ(summarised(h.audit, "personal"), 0U);
  h.mediator().flush_suppressed_refusals();
  EXPECT_EQ(summarised(h.audit, "personal"), 2U);
  EXPECT_EQ(individual(h.audit, "personal"), 1U);
}

TEST(MediatorRefusalBudget, CallsAreAuditedWhateverTheRefusalBudget) {
  Harness h(config_with(RefusalLimits{1, milliseconds(1000), milliseconds(5000)}));
  ASSERT_EQ(h.command(kSecure, "ATE0"), "ATE0\r\r\nOK\r\n");
  h.write(kSecure, "AT+CFUN=0\rAT+CFUN=0\rAT+CFUN=0\r");
  h.run();
  h.take(kSecure);
  EXPECT_EQ(h.command(kSecure, "ATD+4930123456;"), "\r\nOK\r\n");
  EXPECT_EQ(h.audit.count("modem.call"), 1U);
}

}  // namespace
}  // namespace twofold::modem::mediator::testing
