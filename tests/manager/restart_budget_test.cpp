#include "twofold/manager/restart_budget.h"

#include <gtest/gtest.h>

namespace twofold::manager {
namespace {

using namespace std::chrono_literals;
const RestartBudget::Clock::time_point t0{};

TEST(RestartBudget, FirstAttemptIsImmediate) {
    RestartBudget b(3, 60s);
    EXPECT_EQ(b.next_attempt(t0), t0);
}

TEST(RestartBudget, BackoffDoublesBetweenAttempts) {
    RestartBudget b(5, 600s, 1s, 30s);
    b.record_attempt(t0);
    EXPECT_EQ(b.next_attempt(t0), t0 + 1s);
    b.record_attempt(t0 + 1s);
    EXPECT_EQ(b.next_attempt(t0 + 1s), t0 + 3s);
    b.record_attempt(t0 + 3s);
    EXPECT_EQ(b.next_attempt(t0 + 3s), t0 + 7s);
}

TEST(RestartBudget, ExhaustedWithinWindowThenRecoversAfterIt) {
    RestartBudget b(2, 60s, 1s, 30s);
    b.record_attempt(t0);
    b.record_attempt(t0 + 1s);
    EXPECT_FALSE(b.next_attempt(t0 + 2s).has_value());
    EXPECT_TRUE(b.next_attempt(t0 + 61s).has_value());
}

TEST(RestartBudget, DelayIsCapped) {
    RestartBudget b(20, 3600s, 1s, 4s);
    auto t = t0;
    for (int i = 0; i < 6; ++i) {
        b.record_attempt(t);
        t += 1s;
    }
    EXPECT_LE(*b.next_attempt(t) - (t - 1s), 4s);
}

} // namespace
} // namespace twofold::manager
