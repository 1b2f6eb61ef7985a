#include <linux/input-event-codes.h>

#include <gtest/gtest.h>
#include <spdlog/sinks/null_sink.h>

#include "twofold/input/router.h"

namespace twofold::input {
namespace {

// A guest ring of `capacity` events that records what it got (into a log shared by all
// guests, so tests can check ordering across personas).
struct Delivery {
    int guest;
    GuestEvent event;
    friend bool operator==(const Delivery&, const Delivery&) = default;
};

class FakeGuest final : public GuestInput {
public:
    FakeGuest(int id, std::vector<Delivery>& log, std::size_t capacity = 64) : id_(id), log_(log), capacity_(capacity) {}
    PushResult push(const GuestEvent& event) override {
        if (queued_ >= capacity_) return PushResult::Full;
        ++queued_;
        log_.push_back({id_, event});
        return PushResult::Delivered;
    }
    void flush() override { ++flushes; }
    void consume_all() { queued_ = 0; }
    std::size_t flushes = 0;

private:
    int id_;
    std::vector<Delivery>& log_;
    std::size_t capacity_;
    std::size_t queued_ = 0;
};

constexpr PersonaId kPersonal = 0;
constexpr PersonaId kSecure = 1;

class RouterTest : public ::testing::Test {
protected:
    std::vector<Delivery> log;
    FakeGuest personal{0, log};
    FakeGuest secure{1, log};
    InputRouter router{2, KEY_POWER, std::make_shared<spdlog::logger>("test", std::make_shared<spdlog::sinks::null_sink_mt>())};

    void SetUp() override {
        router.attach(kPersonal, personal);
        router.attach(kSecure, secure);
    }
    void send(std::vector<GuestEvent> events) { router.route(events); }
};

TEST_F(RouterTest, NothingIsDeliveredBeforeAForeground) {
    send({KeyEvent{KEY_A, true}});
    EXPECT_TRUE(log.empty());
    EXPECT_EQ(router.counters().dropped_no_foreground, 1U);
}

TEST_F(RouterTest, KeysReachOnlyTheForeground) {
    router.switch_to(kSecure);
    send({KeyEvent{KEY_A, true}, KeyEvent{KEY_A, false}});
    EXPECT_EQ(log, (std::vector<Delivery>{{1, KeyEvent{KEY_A, true}}, {1, KeyEvent{KEY_A, false}}}));
}

TEST_F(RouterTest, SwitchKeyIsNeverDelivered) {
    router.switch_to(kPersonal);
    send({KeyEvent{KEY_POWER, true}, KeyEvent{KEY_POWER, false}});
    EXPECT_TRUE(log.empty());
    EXPECT_EQ(router.counters().dropped_switch_key, 2U);
}

TEST_F(RouterTest, HeldKeysAreReleasedInTheOldPersonaBeforeTheNewOneGetsInput) {
    router.switch_to(kPersonal);
    send({KeyEvent{KEY_LEFTSHIFT, true}, KeyEvent{KEY_A, true}});
    log.clear();
    const auto released = router.switch_to(kSecure);
    send({KeyEvent{KEY_B, true}});
    EXPECT_EQ(released.keys, 2U);
    EXPECT_EQ(log, (std::vector<Delivery>{{0, KeyEvent{KEY_A, false}},
                                          {0, KeyEvent{KEY_LEFTSHIFT, false}},
                                          {1, KeyEvent{KEY_B, true}}}));
}

TEST_F(RouterTest, HeldContactsAreReleasedWithAFrameAtASwitch) {
    router.switch_to(kPersonal);
    send({TouchEvent{TouchPhase::Down, 2, 10, 10}, TouchEvent{TouchPhase::Frame}});
    log.clear();
    router.switch_to(kSecure);
    EXPECT_EQ(log, (std::vector<Delivery>{{0, TouchEvent{TouchPhase::Up, 2, 0, 0}}, {0, TouchEvent{TouchPhase::Frame}}}));
}

TEST_F(RouterTest, ReleaseOfAKeyPressedBeforeTheSwitchIsNotDeliveredToTheNewPersona) {
    router.switch_to(kPersonal);
    send({KeyEvent{KEY_A, true}});
    router.switch_to(kSecure);
    log.clear();
    send({KeyEvent{KEY_A, false}});
    EXPECT_TRUE(log.empty());
    EXPECT_EQ(router.counters().dropped_not_held, 1U);
}

TEST_F(RouterTest, FingerDownAcrossASwitchDoesNotTouchTheNewPersona) {
    router.switch_to(kPersonal);
    send({TouchEvent{TouchPhase::Down, 0, 1, 1}, TouchEvent{TouchPhase::Frame}});
    router.switch_to(kSecure);
    log.clear();
    send({TouchEvent{TouchPhase::Motion, 0, 5, 5}, TouchEvent{TouchPhase::Frame}});
    EXPECT_TRUE(log.empty());
}

TEST_F(RouterTest, FullRingDropsAndCountsWithoutBlocking) {
    std::vector<Delivery> small_log;
    FakeGuest small{2, small_log, 2};
    router.attach(kPersonal, small);
    router.switch_to(kPersonal);
    send({KeyEvent{KEY_A, true}, KeyEvent{KEY_B, true}, KeyEvent{KEY_C, true}, KeyEvent{KEY_D, true}});
    EXPECT_EQ(small_log.size(), 2U);
    EXPECT_EQ(router.counters().dropped_full, 2U);
    EXPECT_TRUE(router.held(kPersonal).holds_key(KEY_B));
    EXPECT_FALSE(router.held(kPersonal).holds_key(KEY_C)); // never reached the guest: nothing to release
}

TEST_F(RouterTest, ReleasesAFullRingCouldNotTakeAreDeliveredWhenTheGuestDrains) {
    std::vector<Delivery> small_log;
    FakeGuest small{2, small_log, 1};
    router.attach(kPersonal, small);
    router.switch_to(kPersonal);
    send({KeyEvent{KEY_A, true}});
    router.switch_to(kSecure); // the ring still holds the press: the release must wait
    EXPECT_EQ(small_log.size(), 1U);
    EXPECT_EQ(router.counters().releases_deferred, 1U);
    small.consume_all();
    router.guest_ready(kPersonal, small);
    ASSERT_EQ(small_log.size(), 2U);
    EXPECT_EQ(small_log.back().event, GuestEvent(KeyEvent{KEY_A, false}));
}

TEST_F(RouterTest, DetachedForegroundGetsNothingAndForgetsWhatItHeld) {
    router.switch_to(kPersonal);
    send({KeyEvent{KEY_A, true}});
    router.detach(kPersonal, personal);
    log.clear();
    send({KeyEvent{KEY_B, true}});
    router.switch_to(kSecure);
    EXPECT_TRUE(log.empty());
    EXPECT_TRUE(router.held(kPersonal).empty());
}

TEST_F(RouterTest, OneFlushPerRoutedBatch) {
    router.switch_to(kSecure);
    send({KeyEvent{KEY_A, true}, KeyEvent{KEY_A, false}, KeyEvent{KEY_B, true}});
    EXPECT_EQ(secure.flushes, 1U);
}

TEST(RateLimiter, AllowsTheFirstThenOnePerPeriod) {
    RateLimiter limiter(std::chrono::seconds(1));
    const auto t0 = std::chrono::steady_clock::time_point{} + std::chrono::hours(1);
    EXPECT_TRUE(limiter.allow(t0));
    EXPECT_FALSE(limiter.allow(t0 + std::chrono::milliseconds(500)));
    EXPECT_TRUE(limiter.allow(t0 + std::chrono::milliseconds(1500)));
}

} // namespace
} // namespace twofold::input

// dom0's PIN prompt: keys go to the manager only.
namespace twofold::input {
namespace {

class PromptRouterTest : public RouterTest {
protected:
    std::vector<focus::PromptKey> typed;
    InputRouter prompt_router{2, KEY_POWER, std::make_shared<spdlog::logger>("test", std::make_shared<spdlog::sinks::null_sink_mt>()),
                              [this](focus::PromptKey k) { typed.push_back(k); }};
    void SetUp() override {
        prompt_router.attach(kPersonal, personal);
        prompt_router.attach(kSecure, secure);
    }
    void type(std::vector<GuestEvent> events) { prompt_router.route(events); }
};

TEST_F(PromptRouterTest, KeysAtThePromptReachNoGuestOnlyTheSink) {
    prompt_router.switch_to_prompt();
    type({KeyEvent{KEY_2, true}, KeyEvent{KEY_2, false}, KeyEvent{KEY_KP4, true}, KeyEvent{KEY_BACKSPACE, true},
          KeyEvent{KEY_ENTER, true}, KeyEvent{KEY_ESC, true}, KeyEvent{KEY_A, true}, TouchEvent{TouchPhase::Down, 0, 5, 5}});
    EXPECT_TRUE(log.empty()) << "no guest got anything";
    EXPECT_EQ(typed, (std::vector<focus::PromptKey>{focus::PromptKey::D2, focus::PromptKey::D4, focus::PromptKey::Backspace,
                                                    focus::PromptKey::Enter, focus::PromptKey::Cancel}));
    EXPECT_EQ(prompt_router.counters().prompt_keys, 5u);
    EXPECT_EQ(prompt_router.counters().dropped_in_prompt, 3u) << "the release, KEY_A, the touch";
}

TEST_F(PromptRouterTest, KeysHeldByTheOldForegroundAreReleasedToItWhenThePromptOpens) {
    prompt_router.switch_to(kPersonal);
    type({KeyEvent{KEY_LEFTSHIFT, true}});
    log.clear();
    const auto released = prompt_router.switch_to_prompt();
    EXPECT_EQ(released.keys, 1u);
    ASSERT_EQ(log.size(), 1u);
    EXPECT_EQ(log[0], (Delivery{0, KeyEvent{KEY_LEFTSHIFT, false}}));
}

TEST_F(PromptRouterTest, AKeyHeldAcrossTheEndOfThePromptIsNotReleasedIntoTheNewPersona) {
    prompt_router.switch_to_prompt();
    type({KeyEvent{KEY_ENTER, true}});
    prompt_router.switch_to(kSecure);
    type({KeyEvent{KEY_ENTER, false}});
    EXPECT_TRUE(log.empty()) << "secure never saw the press, so it gets no release";
    EXPECT_FALSE(prompt_router.prompt());
    type({KeyEvent{KEY_1, true}});
    EXPECT_EQ(log.size(), 1u) << "after the prompt, keys reach the persona again";
    EXPECT_EQ(typed.size(), 1u);
}

TEST_F(PromptRouterTest, TheSwitchKeyIsNeverAPromptKey) {
    prompt_router.switch_to_prompt();
    type({KeyEvent{KEY_POWER, true}});
    EXPECT_TRUE(typed.empty());
    EXPECT_EQ(prompt_router.counters().dropped_switch_key, 1u);
}

TEST(PromptKeys, OnlyDigitsBackspaceEnterAndEscapeArePromptKeys) {
    EXPECT_EQ(prompt_key_of(KEY_0), focus::PromptKey::D0);
    EXPECT_EQ(prompt_key_of(KEY_9), focus::PromptKey::D9);
    EXPECT_EQ(prompt_key_of(KEY_KP0), focus::PromptKey::D0);
    EXPECT_EQ(prompt_key_of(KEY_KP9), focus::PromptKey::D9);
    EXPECT_EQ(prompt_key_of(KEY_KPENTER), focus::PromptKey::Enter);
    EXPECT_EQ(prompt_key_of(KEY_A), std::nullopt);
    EXPECT_EQ(prompt_key_of(KEY_KPMINUS), std::nullopt);
    EXPECT_EQ(prompt_key_of(0xFFFFFFFFu), std::nullopt);
}

} // namespace
} // namespace twofold::input
