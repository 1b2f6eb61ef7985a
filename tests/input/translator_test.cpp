#include <linux/input-event-codes.h>

#include <gtest/gtest.h>

#include "fake_source.h"
#include "twofold/input/translator.h"

namespace twofold::input {
namespace {

using testing::abs;
using testing::key;
using testing::syn;

std::vector<GuestEvent> translate(const DeviceInfo& device, const std::vector<RawEvent>& events,
                                  GuestResolution guest = {800, 600, 5}) {
    EventTranslator translator(device, guest);
    std::vector<GuestEvent> out;
    for (const auto& event : events) translator.feed(event, out);
    return out;
}

TEST(Translator, KeyPressAndReleaseBecomeKeyEvents) {
    const auto out = translate(testing::keyboard(), {key(KEY_A, 1), syn(), key(KEY_A, 0), syn()});
    EXPECT_EQ(out, (std::vector<GuestEvent>{KeyEvent{KEY_A, true}, KeyEvent{KEY_A, false}}));
}

TEST(Translator, AutorepeatIsDropped) {
    const auto out = translate(testing::keyboard(), {key(KEY_A, 1), syn(), key(KEY_A, 2), syn()});
    EXPECT_EQ(out, (std::vector<GuestEvent>{KeyEvent{KEY_A, true}}));
}

TEST(Translator, NothingIsEmittedBeforeSynReport) {
    EXPECT_TRUE(translate(testing::keyboard(), {key(KEY_A, 1)}).empty());
}

TEST(Translator, TouchToolKeysAreNotGuestKeys) {
    EXPECT_FALSE(is_guest_key(BTN_TOUCH));
    EXPECT_FALSE(is_guest_key(BTN_TOOL_FINGER));
    EXPECT_TRUE(is_guest_key(BTN_LEFT));
    EXPECT_TRUE(is_guest_key(KEY_POWER));
}

TEST(Translator, AxisScalesIntoGuestExtentAndClamps) {
    EXPECT_EQ(scale_axis(0, {0, 32767}, 800), 0);
    EXPECT_EQ(scale_axis(32767, {0, 32767}, 800), 799);
    EXPECT_EQ(scale_axis(99999, {0, 32767}, 800), 799);
    EXPECT_EQ(scale_axis(-5, {0, 32767}, 800), 0);
    EXPECT_EQ(scale_axis(INT32_MIN, {INT32_MIN, INT32_MAX}, 800), 0);
    EXPECT_EQ(scale_axis(INT32_MAX, {INT32_MIN, INT32_MAX}, 800), 799);
}

TEST(Translator, EmptyOrInvertedRangeMapsToZero) {
    EXPECT_EQ(scale_axis(7, {10, 10}, 800), 0);
    EXPECT_EQ(scale_axis(7, {10, 0}, 800), 0);
}

TEST(Translator, TabletPositionPrecedesItsClick) {
    const DeviceInfo tablet{"tablet", AxisRange{0, 32767}, AxisRange{0, 32767}, {}, {}, 0};
    const auto out = translate(tablet, {abs(ABS_X, 32767), abs(ABS_Y, 0), key(BTN_LEFT, 1), syn()});
    EXPECT_EQ(out, (std::vector<GuestEvent>{PositionEvent{799, 0, 0}, KeyEvent{BTN_LEFT, true}}));
}

TEST(Translator, MultiTouchContactGoesDownMovesAndUpWithFrames) {
    const auto out = translate(testing::touchscreen(),
                               {abs(ABS_MT_SLOT, 1), abs(ABS_MT_TRACKING_ID, 40), abs(ABS_MT_POSITION_X, 4095),
                                abs(ABS_MT_POSITION_Y, 0), key(BTN_TOUCH, 1), syn(), abs(ABS_MT_POSITION_Y, 4095), syn(),
                                abs(ABS_MT_TRACKING_ID, -1), key(BTN_TOUCH, 0), syn()});
    EXPECT_EQ(out, (std::vector<GuestEvent>{
                       TouchEvent{TouchPhase::Down, 1, 799, 0}, TouchEvent{TouchPhase::Frame, 0, 0, 0},
                       TouchEvent{TouchPhase::Motion, 1, 799, 599}, TouchEvent{TouchPhase::Frame, 0, 0, 0},
                       TouchEvent{TouchPhase::Up, 1, 0, 0}, TouchEvent{TouchPhase::Frame, 0, 0, 0}}));
}

TEST(Translator, SlotsBeyondOfferedContactsAreIgnored) {
    const auto out = translate(testing::touchscreen(10),
                               {abs(ABS_MT_SLOT, 3), abs(ABS_MT_TRACKING_ID, 1), abs(ABS_MT_POSITION_X, 5), syn()},
                               GuestResolution{800, 600, 2});
    EXPECT_TRUE(out.empty());
}

TEST(Translator, MultiTouchPanelDoesNotAlsoMoveThePointer) {
    const auto out = translate(testing::touchscreen(), {abs(ABS_X, 100), abs(ABS_Y, 100), syn()});
    EXPECT_TRUE(out.empty());
}

} // namespace
} // namespace twofold::input
