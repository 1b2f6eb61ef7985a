#include "twofold/manager/pin_prompt.h"

#include <gtest/gtest.h>

namespace twofold::manager {
namespace {

using focus::PromptKey;
using Action = PinPrompt::Action;
const auto t0 = PinPrompt::Clock::time_point{} + std::chrono::hours(1);

void type(PinPrompt& p, std::initializer_list<PromptKey> keys, PinPrompt::Clock::time_point at = t0) {
    for (const auto k : keys) (void)p.key(k, at);
}

TEST(PinPrompt, ClosedPromptIgnoresKeys) {
    PinPrompt p;
    EXPECT_EQ(p.key(PromptKey::D1, t0), Action::None);
    EXPECT_EQ(p.view().dots, 0u);
}

TEST(PinPrompt, EachDigitIsADotAndBackspaceTakesOneAway) {
    PinPrompt p;
    p.open("secure");
    EXPECT_EQ(p.key(PromptKey::D2, t0), Action::Redraw);
    type(p, {PromptKey::D4, PromptKey::D6});
    EXPECT_EQ(p.view().dots, 3u);
    EXPECT_EQ(p.key(PromptKey::Backspace, t0), Action::Redraw);
    EXPECT_EQ(p.view().dots, 2u);
    type(p, {PromptKey::Backspace, PromptKey::Backspace});
    EXPECT_EQ(p.key(PromptKey::Backspace, t0), Action::None) << "nothing left to erase";
}

TEST(PinPrompt, EnterWithTooFewDigitsSaysSoAndSubmitsNothing) {
    PinPrompt p;
    p.open("secure");
    type(p, {PromptKey::D1, PromptKey::D2});
    EXPECT_EQ(p.key(PromptKey::Enter, t0), Action::Redraw);
    EXPECT_EQ(p.view().message, "PIN TOO SHORT");
    EXPECT_FALSE(p.checking());
}

TEST(PinPrompt, EnterSubmitsTheDigitsOnceAndTheBufferIsEmptied) {
    PinPrompt p;
    p.open("secure");
    type(p, {PromptKey::D2, PromptKey::D4, PromptKey::D6, PromptKey::D8});
    EXPECT_EQ(p.key(PromptKey::Enter, t0), Action::Submit);
    EXPECT_TRUE(p.checking());
    EXPECT_EQ(p.take_pin(), "2468");
    EXPECT_EQ(p.view().dots, 0u);
    EXPECT_EQ(p.key(PromptKey::D1, t0), Action::None) << "no editing while the keystore checks";
    EXPECT_EQ(p.key(PromptKey::Enter, t0), Action::None) << "no second submission";
}

TEST(PinPrompt, WrongPinSaysTriesLeftAndDigitsCanBeTypedAgain) {
    PinPrompt p;
    p.open("secure");
    type(p, {PromptKey::D1, PromptKey::D1, PromptKey::D1, PromptKey::D1, PromptKey::Enter});
    (void)p.take_pin();
    p.outcome("wrong-pin", 3);
    EXPECT_EQ(p.view().message, "WRONG PIN - 3 TRIES LEFT");
    EXPECT_FALSE(p.checking());
    EXPECT_EQ(p.key(PromptKey::D5, t0), Action::Redraw);
    EXPECT_EQ(p.view().dots, 1u);
    EXPECT_EQ(p.view().message, "") << "typing clears the status line";
}

TEST(PinPrompt, EveryOutcomeHasAMessageTheDisplayCanDraw) {
    for (const char* outcome : {"ok", "wrong-pin", "locked-out", "wiped", "measurements-changed", "busy", "error", "x"}) {
        const auto text = PinPrompt::message_for(outcome, 1);
        EXPECT_TRUE(focus::is_valid_prompt_message(text)) << outcome << ": " << text;
        EXPECT_FALSE(text.empty());
    }
    EXPECT_EQ(PinPrompt::message_for("measurements-changed", std::nullopt), "LOCKED: MEASUREMENTS CHANGED");
    EXPECT_EQ(PinPrompt::message_for("wrong-pin", 1), "WRONG PIN - 1 TRY LEFT");
    EXPECT_EQ(PinPrompt::message_for("wrong-pin", 1000), "WRONG PIN") << "an absurd count is not drawn";
}

TEST(PinPrompt, DigitsStopAtTheBound) {
    PinPrompt p;
    p.open("secure");
    for (std::size_t i = 0; i < PinPrompt::kMaxDigits; ++i) {
        EXPECT_EQ(p.key(PromptKey::D9, t0 + std::chrono::seconds(i)), Action::Redraw);
    }
    EXPECT_EQ(p.key(PromptKey::D9, t0 + std::chrono::minutes(1)), Action::None);
    EXPECT_EQ(p.view().dots, PinPrompt::kMaxDigits);
}

TEST(PinPrompt, AFloodOfKeysIsRefusedPastTheBoundPerSecond) {
    PinPrompt p;
    p.open("secure");
    for (std::uint32_t i = 0; i < PinPrompt::kMaxKeysPerSecond; ++i) (void)p.key(PromptKey::Backspace, t0);
    EXPECT_EQ(p.key(PromptKey::D1, t0), Action::None);
    EXPECT_EQ(p.keys_refused(), 1u);
    EXPECT_EQ(p.key(PromptKey::D1, t0 + std::chrono::seconds(1)), Action::Redraw) << "a new second, a new budget";
}

TEST(PinPrompt, CancelLeavesAndClosingForgetsTheDigits) {
    PinPrompt p;
    p.open("secure");
    type(p, {PromptKey::D3, PromptKey::D3});
    EXPECT_EQ(p.key(PromptKey::Cancel, t0), Action::Cancel);
    p.close();
    EXPECT_FALSE(p.open());
    p.open("secure");
    EXPECT_EQ(p.view().dots, 0u);
}

} // namespace
} // namespace twofold::manager
