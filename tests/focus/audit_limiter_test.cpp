#include "twofold/focus/audit_limiter.h"

#include <gtest/gtest.h>

namespace twofold::focus {
namespace {

using namespace std::chrono_literals;
using Clock = AuditLimiter::Clock;

AuditEvent event(const char* persona, const char* kind) {
    return AuditEvent{kind, persona ? nlohmann::json{{"persona", persona}} : nlohmann::json::object()};
}

AuditLimits small() {
    AuditLimits l;
    l.burst = 3;
    l.refill = 100ms;
    l.summary_every = 1s;
    return l;
}

TEST(AuditLimiter, BurstThenCountsTheRestForOneSummary) {
    AuditLimiter limiter("display", small());
    const auto t0 = Clock::now();
    int admitted = 0;
    for (int i = 0; i < 50; ++i) admitted += limiter.admit(event("personal", "display.guest-rejected"), t0) ? 1 : 0;
    EXPECT_EQ(admitted, 3);
    EXPECT_TRUE(limiter.due(t0 + 500ms).empty()) << "a summary per pair at most every summary_every";
    const auto due = limiter.due(t0 + 1s);
    ASSERT_EQ(due.size(), 1U);
    EXPECT_EQ(due[0].event, "display.audit-suppressed");
    EXPECT_EQ(due[0].fields.at("persona"), "personal");
    EXPECT_EQ(due[0].fields.at("kind"), "display.guest-rejected");
    EXPECT_EQ(due[0].fields.at("suppressed"), 47);
    EXPECT_TRUE(limiter.due(t0 + 3s).empty()) << "the count restarted";
    EXPECT_EQ(limiter.suppressed_total(), 47U);
}

TEST(AuditLimiter, OnePersonasFloodLeavesTheOtherPersonasAndOtherKindsBudget) {
    AuditLimiter limiter("display", small());
    const auto t0 = Clock::now();
    for (int i = 0; i < 1000; ++i) (void)limiter.admit(event("personal", "display.guest-rejected"), t0);
    EXPECT_TRUE(limiter.admit(event("secure", "display.guest-rejected"), t0));
    EXPECT_TRUE(limiter.admit(event("personal", "display.switch"), t0));
    EXPECT_TRUE(limiter.admit(event(nullptr, "display.guest-rejected"), t0));
}

TEST(AuditLimiter, RefillAdmitsOneEventPerInterval) {
    AuditLimiter limiter("input", small());
    const auto t0 = Clock::now();
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(limiter.admit(event("secure", "input.refused-frontend"), t0));
    EXPECT_FALSE(limiter.admit(event("secure", "input.refused-frontend"), t0 + 50ms));
    EXPECT_TRUE(limiter.admit(event("secure", "input.refused-frontend"), t0 + 150ms));
    EXPECT_FALSE(limiter.admit(event("secure", "input.refused-frontend"), t0 + 160ms));
}

TEST(AuditLimiter, InvalidPersonaCountsAsSystemWideAndPairsAreBounded) {
    AuditLimits l = small();
    l.max_pairs = 4;
    AuditLimiter limiter("modem", l);
    const auto t0 = Clock::now();
    // A persona field that is not a name (guest-shaped) does not make a new pair.
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(limiter.admit(event("Not A Name", "modem.refuse"), t0));
    EXPECT_FALSE(limiter.admit(event(nullptr, "modem.refuse"), t0));
    // Many kinds: beyond max_pairs they share one overflow bucket.
    int admitted = 0;
    for (int i = 0; i < 100; ++i) {
        admitted += limiter.admit(AuditEvent{"modem.kind-" + std::to_string(i), nlohmann::json::object()}, t0) ? 1 : 0;
    }
    EXPECT_EQ(admitted, 3 + 3);
    const auto all = limiter.take_all();
    std::uint64_t counted = 0;
    for (const auto& s : all) counted += s.fields.at("suppressed").get<std::uint64_t>();
    EXPECT_EQ(counted, 1U + 94U) << "nothing unaccounted";
}

TEST(AuditLimiter, SummariesAreNeverLimited) {
    AuditLimiter limiter("display", small());
    const auto t0 = Clock::now();
    for (int i = 0; i < 10; ++i) EXPECT_TRUE(limiter.admit(event("personal", "display.audit-suppressed"), t0));
}

} // namespace
} // namespace twofold::focus
