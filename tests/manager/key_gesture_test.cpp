#include "twofold/manager/key_gesture.h"

#include <gtest/gtest.h>

namespace twofold::manager {
namespace {

using namespace std::chrono_literals;
using TP = KeyGestureRecognizer::TimePoint;

const TP t0{};
const GestureTiming kTiming{20ms, 400ms, 800ms};

TEST(KeyGesture, ShortPressReportsPressOnRelease) {
    KeyGestureRecognizer r(Gesture::Press, kTiming);
    EXPECT_EQ(r.on_key(true, t0), std::nullopt);
    EXPECT_EQ(r.on_key(false, t0 + 100ms), Gesture::Press);
}

TEST(KeyGesture, BounceWithinDebounceWindowIsIgnored) {
    KeyGestureRecognizer r(Gesture::Press, kTiming);
    r.on_key(true, t0);
    EXPECT_EQ(r.on_key(false, t0 + 3ms), std::nullopt);
    EXPECT_EQ(r.on_key(true, t0 + 6ms), std::nullopt);
    EXPECT_TRUE(r.held());
    EXPECT_EQ(r.on_key(false, t0 + 150ms), Gesture::Press);
    EXPECT_EQ(r.on_key(true, t0 + 153ms), std::nullopt); // release bounce
    EXPECT_EQ(r.on_timer(t0 + 2s), std::nullopt) << "bounce must not become a press";
}

TEST(KeyGesture, VeryShortTapIsAcceptedWhenDebounceSettles) {
    KeyGestureRecognizer r(Gesture::Press, kTiming);
    r.on_key(true, t0);
    EXPECT_EQ(r.on_key(false, t0 + 10ms), std::nullopt);
    ASSERT_TRUE(r.next_deadline().has_value());
    EXPECT_EQ(*r.next_deadline(), t0 + 20ms);
    EXPECT_EQ(r.on_timer(t0 + 20ms), Gesture::Press);
    EXPECT_FALSE(r.held());
}

TEST(KeyGesture, HoldingReportsLongPressAtThresholdOnce) {
    KeyGestureRecognizer r(Gesture::LongPress, kTiming);
    r.on_key(true, t0);
    EXPECT_EQ(r.on_timer(t0 + 799ms), std::nullopt);
    EXPECT_EQ(r.on_timer(t0 + 800ms), Gesture::LongPress);
    EXPECT_EQ(r.on_timer(t0 + 2s), std::nullopt);
    EXPECT_EQ(r.on_key(false, t0 + 3s), std::nullopt) << "release after a long press is not a press";
}

TEST(KeyGesture, LongPressIsReportedEvenIfTimerWasLateAndReleaseCameFirst) {
    KeyGestureRecognizer r(Gesture::LongPress, kTiming);
    r.on_key(true, t0);
    EXPECT_EQ(r.on_key(false, t0 + 1s), Gesture::LongPress);
}

TEST(KeyGesture, TwoPressesInWindowAreDoublePressWhenBound) {
    KeyGestureRecognizer r(Gesture::DoublePress, kTiming);
    r.on_key(true, t0);
    EXPECT_EQ(r.on_key(false, t0 + 80ms), std::nullopt);
    r.on_key(true, t0 + 200ms);
    EXPECT_EQ(r.on_key(false, t0 + 280ms), Gesture::DoublePress);
}

TEST(KeyGesture, SinglePressWithDoubleBindingReportsPressAfterWindow) {
    KeyGestureRecognizer r(Gesture::DoublePress, kTiming);
    r.on_key(true, t0);
    r.on_key(false, t0 + 80ms);
    EXPECT_EQ(r.on_timer(t0 + 479ms), std::nullopt);
    EXPECT_EQ(r.on_timer(t0 + 480ms), Gesture::Press);
}

TEST(KeyGesture, PressAfterLongPressStartsAFreshGesture) {
    KeyGestureRecognizer r(Gesture::Press, kTiming);
    r.on_key(true, t0);
    r.on_timer(t0 + 1s);
    r.on_key(false, t0 + 2s);
    r.on_key(true, t0 + 3s);
    EXPECT_EQ(r.on_key(false, t0 + 3s + 100ms), Gesture::Press);
}

TEST(KeyGesture, NoDeadlineWhenIdle) {
    KeyGestureRecognizer r(Gesture::Press, kTiming);
    EXPECT_FALSE(r.next_deadline().has_value());
}

} // namespace
} // namespace twofold::manager
