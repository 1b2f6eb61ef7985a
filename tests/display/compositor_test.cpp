#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>

#include <gtest/gtest.h>

#include "support.h"
#include "twofold/display/compositor.h"

namespace twofold::display {
namespace {

using testing::packed_geometry;
using testing::PrivateFramebuffer;

constexpr std::uint32_t kScreenW = 200;
constexpr std::uint32_t kScreenH = 150;
constexpr std::uint32_t kStrip = 30;
constexpr std::uint32_t kContentH = kScreenH - kStrip;

class CompositorTest : public ::testing::Test {
protected:
    HeadlessTarget target{kScreenW, kScreenH};
    Compositor compositor{target, kStrip};
    PersonaId personal = compositor.add_persona({"daily", Trust::Personal});
    PersonaId secure = compositor.add_persona({"bank", Trust::Secure});
    PrivateFramebuffer personal_fb{packed_geometry(kScreenW, kContentH)};
    PrivateFramebuffer secure_fb{packed_geometry(kScreenW, kContentH)};

    [[nodiscard]] const Screen& screen() const { return target.screen(); }
    [[nodiscard]] bool strip_is(Trust trust) const {
        for (std::uint32_t y = 0; y < kStrip; ++y)
            for (std::uint32_t x = 0; x < kScreenW; ++x) {
                const auto p = screen().at(x, y);
                if (p != strip_colour(trust) && p != kIndicatorTextColour) return false;
            }
        return true;
    }
};

TEST_F(CompositorTest, OffersTheScreenLessTheStripToGuests) {
    const auto limits = compositor.content_limits(1U << 20);
    EXPECT_EQ(limits.max_width, kScreenW);
    EXPECT_EQ(limits.max_height, kContentH);
    EXPECT_EQ(limits.max_mem_length, 1U << 20);
}

TEST_F(CompositorTest, RefusesAStripThatLeavesNoContent) {
    EXPECT_THROW(Compositor(target, kScreenH), std::invalid_argument);
    EXPECT_THROW(Compositor(target, 0), std::invalid_argument);
}

TEST_F(CompositorTest, SwitchPresentsIndicatorAndContentInOneFrame) {
    personal_fb.fill(0x00112233);
    compositor.set_source(personal, personal_fb.framebuffer());
    compositor.switch_to(personal);
    ASSERT_TRUE(compositor.present());
    EXPECT_EQ(target.frames_presented(), 1U);
    EXPECT_TRUE(strip_is(Trust::Personal));
    EXPECT_EQ(screen().at(0, kStrip), 0x00112233U);
    EXPECT_EQ(screen().at(kScreenW - 1, kScreenH - 1), 0x00112233U);
}

TEST_F(CompositorTest, IndicatorShowsTextInTheStrip) {
    compositor.switch_to(secure);
    ASSERT_TRUE(compositor.present());
    std::size_t text = 0;
    for (auto p : screen().pixels().first(std::size_t{kScreenW} * kStrip)) text += p == kIndicatorTextColour;
    EXPECT_GT(text, 50U);
    EXPECT_EQ(indicator_text({"bank", Trust::Secure}), "SECURE - BANK");
    EXPECT_EQ(indicator_text({"d\xC3\xA9j\x1B", Trust::Personal}), "PERSONAL - D??J?");
}

TEST_F(CompositorTest, BackgroundUpdatesAreTrackedButNeverShown) {
    personal_fb.fill(0x00000011);
    secure_fb.fill(0x00000022);
    compositor.set_source(personal, personal_fb.framebuffer());
    compositor.set_source(secure, secure_fb.framebuffer());
    compositor.switch_to(personal);
    ASSERT_TRUE(compositor.present());
    secure_fb.fill(0x00000033);
    compositor.mark_dirty(secure, Rect{0, 0, kScreenW, kContentH});
    EXPECT_FALSE(compositor.present());
    EXPECT_EQ(target.frames_presented(), 1U);
    EXPECT_EQ(compositor.stats().background_updates, 1U);
    EXPECT_EQ(screen().at(5, kStrip + 5), 0x00000011U);
    // At the switch the background persona's current frame appears at once.
    compositor.switch_to(secure);
    ASSERT_TRUE(compositor.present());
    EXPECT_TRUE(strip_is(Trust::Secure));
    EXPECT_EQ(screen().at(5, kStrip + 5), 0x00000033U);
}

TEST_F(CompositorTest, UpdateCopiesOnlyTheDirtyRectangle) {
    compositor.set_source(personal, personal_fb.framebuffer());
    compositor.switch_to(personal);
    ASSERT_TRUE(compositor.present());
    personal_fb.fill(0x00ABCDEF);
    compositor.mark_dirty(personal, Rect{10, 20, 5, 6});
    ASSERT_TRUE(compositor.present());
    EXPECT_EQ(target.last_damage(), (Rect{10, 20 + kStrip, 5, 6}));
    EXPECT_EQ(screen().at(10, kStrip + 20), 0x00ABCDEFU);
    EXPECT_EQ(screen().at(14, kStrip + 25), 0x00ABCDEFU);
    EXPECT_EQ(screen().at(15, kStrip + 25), 0U);
    EXPECT_EQ(screen().at(10, kStrip + 26), 0U);
    EXPECT_EQ(screen().at(9, kStrip + 20), 0U);
    EXPECT_FALSE(compositor.present()); // nothing dirty any more
}

TEST_F(CompositorTest, PaddedRowsAreHonoured) {
    auto geometry = packed_geometry(50, 40);
    geometry.line_length = 256;
    geometry.mem_length = 256 * 40;
    PrivateFramebuffer padded{geometry};
    padded.set(49, 39, 0x00FF00FF);
    padded.set(0, 1, 0x0000FF00);
    compositor.set_source(personal, padded.framebuffer());
    compositor.switch_to(personal);
    ASSERT_TRUE(compositor.present());
    EXPECT_EQ(screen().at(49, kStrip + 39), 0x00FF00FFU);
    EXPECT_EQ(screen().at(0, kStrip + 1), 0x0000FF00U);
    EXPECT_EQ(screen().at(50, kStrip + 39), 0U); // outside the guest's width: black
}

TEST_F(CompositorTest, NoGuestPixelLandsOutsideTheContentAreaEvenWithOversizedGeometry) {
    // A geometry larger than the mode it was offered (the parser refuses it; the compositor
    // does not rely on that).
    PrivateFramebuffer huge{packed_geometry(kScreenW + 40, kScreenH + 40)};
    huge.fill(0x00777777);
    compositor.set_source(secure, huge.framebuffer());
    compositor.switch_to(secure);
    ASSERT_TRUE(compositor.present());
    compositor.mark_dirty(secure, Rect{0, 0, kScreenW + 40, kScreenH + 40});
    ASSERT_TRUE(compositor.present());
    EXPECT_TRUE(strip_is(Trust::Secure));
    EXPECT_EQ(screen().at(kScreenW - 1, kScreenH - 1), 0x00777777U);
}

TEST_F(CompositorTest, GuestGoneBlanksItsContentButKeepsItsIndicator) {
    personal_fb.fill(0x00444444);
    compositor.set_source(personal, personal_fb.framebuffer());
    compositor.switch_to(personal);
    ASSERT_TRUE(compositor.present());
    compositor.clear_source(personal);
    ASSERT_TRUE(compositor.present());
    EXPECT_TRUE(strip_is(Trust::Personal));
    EXPECT_EQ(screen().at(7, kStrip + 7), 0U);
    compositor.mark_dirty(personal, Rect{0, 0, 10, 10});
    EXPECT_FALSE(compositor.present());
}

TEST_F(CompositorTest, SwitchingToTheShownPersonaPresentsNothingNewButCompletes) {
    compositor.switch_to(personal, 1);
    ASSERT_TRUE(compositor.present());
    EXPECT_EQ(compositor.take_presented_switch(), (PresentedSwitch{personal, 1}));
    compositor.switch_to(personal, 2);
    EXPECT_FALSE(compositor.present());
    EXPECT_EQ(compositor.stats().switches, 1U);
    EXPECT_EQ(compositor.take_presented_switch(), (PresentedSwitch{personal, 2}));
}

TEST_F(CompositorTest, SwitchCompletesOnlyWithThePresentThatShowsIt) {
    compositor.switch_to(secure, 7);
    EXPECT_FALSE(compositor.take_presented_switch());
    ASSERT_TRUE(compositor.present());
    EXPECT_EQ(compositor.take_presented_switch(), (PresentedSwitch{secure, 7}));
    EXPECT_FALSE(compositor.take_presented_switch()); // reported once
}

TEST_F(CompositorTest, LaterSwitchSupersedesAnUnpresentedOne) {
    compositor.switch_to(secure, 3);
    compositor.switch_to(personal, 4);
    ASSERT_TRUE(compositor.present());
    EXPECT_TRUE(strip_is(Trust::Personal));
    EXPECT_EQ(compositor.take_presented_switch(), (PresentedSwitch{personal, 4}));
    EXPECT_EQ(target.frames_presented(), 1U);
}

TEST_F(CompositorTest, UnknownPersonaIsAProgrammingError) {
    EXPECT_THROW(compositor.switch_to(99), std::out_of_range);
    compositor.mark_dirty(99, Rect{0, 0, 1, 1}); // ignored, no crash
    compositor.clear_source(99);
}

// The central property: every presented frame's strip and content belong to one persona.
TEST_F(CompositorTest, NoPresentedFrameMixesOnePersonasPixelsWithTheOthersIndicator) {
    compositor.set_source(personal, personal_fb.framebuffer());
    compositor.set_source(secure, secure_fb.framebuffer());
    std::mt19937 random(12345);
    std::uint32_t personal_colour = 0x00010000;
    std::uint32_t secure_colour = 0x00000100;
    personal_fb.fill(personal_colour);
    secure_fb.fill(secure_colour);
    std::size_t checked = 0;
    for (int step = 0; step < 400; ++step) {
        switch (random() % 4) {
        case 0: compositor.switch_to(random() % 2 ? secure : personal); break;
        default: {
            // Personal colours have only red set, secure only green: a pixel tells its owner.
            const bool to_secure = random() % 2;
            auto& fb = to_secure ? secure_fb : personal_fb;
            const std::uint32_t colour = to_secure ? (((step % 250) + 1) << 8) : (((step % 250) + 1) << 16);
            const Rect rect{static_cast<std::uint32_t>(random() % kScreenW), static_cast<std::uint32_t>(random() % kContentH),
                            static_cast<std::uint32_t>(random() % 40 + 1), static_cast<std::uint32_t>(random() % 40 + 1)};
            for (std::uint32_t y = rect.y; y < std::min(rect.y + rect.height, kContentH); ++y)
                for (std::uint32_t x = rect.x; x < std::min(rect.x + rect.width, kScreenW); ++x) fb.set(x, y, colour);
            compositor.mark_dirty(to_secure ? secure : personal, rect);
        }
        }
        if (!compositor.present()) continue;
        const bool shows_secure = compositor.foreground() == secure;
        ASSERT_TRUE(strip_is(shows_secure ? Trust::Secure : Trust::Personal)) << "step " << step;
        for (std::uint32_t y = kStrip; y < kScreenH; ++y)
            for (std::uint32_t x = 0; x < kScreenW; ++x) {
                const auto p = screen().at(x, y);
                const bool secure_pixel = (p & 0x00FF00FF) == 0 && p != 0;
                const bool personal_pixel = (p & 0x0000FFFF) == 0 && p != 0;
                ASSERT_TRUE(shows_secure ? secure_pixel : personal_pixel)
                    << "step " << step << " pixel " << x << "," << y << " = " << std::hex << p;
            }
        ++checked;
    }
    EXPECT_GT(compositor.stats().switches, 20U);
    EXPECT_GT(checked, 100U);
}

TEST(ClipUpdate, ClipsToTheFramebuffer) {
    const auto g = packed_geometry(100, 50);
    EXPECT_EQ(clip_update({-10, -10, 20, 20}, g).value(), (Rect{0, 0, 10, 10}));
    EXPECT_EQ(clip_update({90, 40, 50, 50}, g).value(), (Rect{90, 40, 10, 10}));
    EXPECT_EQ(clip_update({0, 0, 100, 50}, g).value(), (Rect{0, 0, 100, 50}));
}

TEST(ClipUpdate, OutsideTheFramebufferIsEmpty) {
    const auto g = packed_geometry(100, 50);
    EXPECT_TRUE(clip_update({100, 0, 10, 10}, g).value().empty());
    EXPECT_TRUE(clip_update({INT32_MIN, INT32_MIN, INT32_MAX, INT32_MAX}, g).value().empty());
    EXPECT_TRUE(clip_update({INT32_MAX, INT32_MAX, INT32_MAX, INT32_MAX}, g).value().empty());
}

TEST(ClipUpdate, RejectsRectanglesWithoutArea) {
    const auto g = packed_geometry(100, 50);
    EXPECT_FALSE(clip_update({0, 0, 0, 10}, g));
    EXPECT_FALSE(clip_update({0, 0, 10, -1}, g));
    EXPECT_FALSE(clip_update({0, 0, INT32_MIN, INT32_MIN}, g));
}

TEST(ScreenPpm, WritesAHeaderAndThreeBytesPerPixel) {
    Screen screen(3, 2);
    screen.fill(Rect{0, 0, 1, 1}, 0x00FF8001);
    const auto path = std::filesystem::path(::testing::TempDir()) / "display_screen_test.ppm";
    ASSERT_TRUE(screen.write_ppm(path));
    std::ifstream in(path, std::ios::binary);
    std::string contents((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const std::string header = "P6\n3 2\n255\n";
    ASSERT_EQ(contents.size(), header.size() + 18);
    EXPECT_EQ(contents.substr(0, header.size()), header);
    EXPECT_EQ(static_cast<unsigned char>(contents[header.size()]), 0xFF);
    EXPECT_EQ(static_cast<unsigned char>(contents[header.size() + 1]), 0x80);
    EXPECT_EQ(static_cast<unsigned char>(contents[header.size() + 2]), 0x01);
    EXPECT_EQ(contents[header.size() + 3], 0);
    std::filesystem::remove(path);
}

} // namespace
} // namespace twofold::display

// dom0's PIN prompt (issue 15): dom0's pixels only, under the secure strip.
namespace twofold::display {
namespace {

constexpr std::uint32_t kGuestColour = 0x00ABCDEF;
const Rect kContent{0, kStrip, kScreenW, kContentH};

class PromptCompositorTest : public CompositorTest {
protected:
    [[nodiscard]] std::size_t guest_pixels() const {
        std::size_t n = 0;
        for (auto p : screen().pixels()) n += p == kGuestColour;
        return n;
    }
    [[nodiscard]] bool dot_drawn(std::uint32_t i) const {
        const Rect d = prompt_dot(kContent, i);
        return screen().at(d.x + d.width / 2, d.y + d.height / 2) == kPromptDotColour;
    }
    void show_secure_guest() {
        secure_fb.fill(kGuestColour);
        compositor.set_source(secure, secure_fb.framebuffer());
        compositor.switch_to(secure, 1);
        ASSERT_TRUE(compositor.present());
        ASSERT_GT(guest_pixels(), 0U);
    }
};

TEST_F(PromptCompositorTest, ThePromptReplacesEveryGuestPixelUnderTheSecureStripInOneFrame) {
    show_secure_guest();
    compositor.show_prompt(secure, 5, PromptScreen{2, "WRONG PIN"});
    const auto frames = target.frames_presented();
    ASSERT_TRUE(compositor.present());
    EXPECT_EQ(target.frames_presented(), frames + 1);
    EXPECT_EQ(compositor.take_presented_switch(), (PresentedSwitch{secure, 5}));
    EXPECT_TRUE(strip_is(Trust::Secure));
    EXPECT_EQ(guest_pixels(), 0U);
    EXPECT_TRUE(dot_drawn(0));
    EXPECT_TRUE(dot_drawn(1));
    EXPECT_FALSE(dot_drawn(2));
    EXPECT_EQ(screen().at(kScreenW - 1, kScreenH - 1), kPromptBackground);
    std::size_t message = 0;
    for (auto p : screen().pixels()) message += p == kPromptMessageColour;
    EXPECT_GT(message, 100U) << "the status line is drawn";
    EXPECT_EQ(indicator_text({"bank", Trust::Secure}, kPromptCaption), "SECURE - ENTER PIN");
}

TEST_F(PromptCompositorTest, GuestUpdatesStayOffScreenWhileThePromptIsUp) {
    show_secure_guest();
    compositor.show_prompt(secure, 5, PromptScreen{});
    ASSERT_TRUE(compositor.present());
    compositor.mark_dirty(secure, Rect{0, 0, kScreenW, kContentH});
    EXPECT_FALSE(compositor.present());
    EXPECT_EQ(guest_pixels(), 0U);
}

TEST_F(PromptCompositorTest, ARedrawOfThePromptShownChangesTheDotsAndAStaleOneNothing) {
    compositor.show_prompt(secure, 5, PromptScreen{});
    ASSERT_TRUE(compositor.present());
    EXPECT_FALSE(dot_drawn(0));
    EXPECT_FALSE(compositor.update_prompt(4, PromptScreen{3, ""}));
    EXPECT_TRUE(compositor.update_prompt(5, PromptScreen{3, ""}));
    ASSERT_TRUE(compositor.present());
    EXPECT_TRUE(dot_drawn(2));
    EXPECT_FALSE(dot_drawn(3));
    EXPECT_TRUE(strip_is(Trust::Secure));
}

TEST_F(PromptCompositorTest, LeavingThePromptForThePersonaShowsItsWholeFrame) {
    secure_fb.fill(kGuestColour);
    compositor.set_source(secure, secure_fb.framebuffer());
    compositor.show_prompt(secure, 5, PromptScreen{4, ""});
    ASSERT_TRUE(compositor.present());
    compositor.switch_to(secure, 6);
    ASSERT_TRUE(compositor.present()) << "the same persona, but a new frame: the guest's";
    EXPECT_EQ(compositor.take_presented_switch(), (PresentedSwitch{secure, 6}));
    EXPECT_FALSE(compositor.prompt_shown());
    EXPECT_EQ(screen().at(kScreenW - 1, kScreenH - 1), kGuestColour);
    EXPECT_FALSE(compositor.update_prompt(5, PromptScreen{1, ""})) << "no prompt to redraw any more";
}

TEST(PromptDrawing, DrawsOnlyInsideItsArea) {
    HeadlessTarget t{100, 80};
    t.screen().fill(Rect{0, 0, 100, 80}, 0x00123456);
    const Rect area{10, 20, 60, 40};
    draw_prompt(t.screen(), area, PromptScreen{16, "LOCKED: MEASUREMENTS CHANGED"});
    for (std::uint32_t y = 0; y < 80; ++y)
        for (std::uint32_t x = 0; x < 100; ++x) {
            const bool inside = x >= 10 && x < 70 && y >= 20 && y < 60;
            if (!inside) {
                ASSERT_EQ(t.screen().at(x, y), 0x00123456U) << x << "," << y;
            }
        }
}

} // namespace
} // namespace twofold::display

// A background persona's content-free notice on the strip (issue 17, item 4).
namespace twofold::display {
namespace {

constexpr std::uint32_t kWideW = 640;

class NoticeTest : public ::testing::Test {
protected:
    HeadlessTarget target{kWideW, kScreenH};
    Compositor compositor{target, kStrip};
    PersonaId personal = compositor.add_persona({"daily", Trust::Personal});
    PersonaId secure = compositor.add_persona({"bank", Trust::Secure});
    PrivateFramebuffer personal_fb{packed_geometry(kWideW, kContentH)};

    [[nodiscard]] std::size_t strip_pixels(std::uint32_t colour, std::uint32_t from_x, std::uint32_t to_x) const {
        std::size_t n = 0;
        for (std::uint32_t y = 0; y < kStrip; ++y)
            for (std::uint32_t x = from_x; x < to_x; ++x) n += target.screen().at(x, y) == colour;
        return n;
    }
    [[nodiscard]] bool content_is(std::uint32_t colour) const {
        for (std::uint32_t y = kStrip; y < kScreenH; ++y)
            for (std::uint32_t x = 0; x < kWideW; ++x)
                if (target.screen().at(x, y) != colour) return false;
        return true;
    }
};

TEST_F(NoticeTest, ABackgroundNoticeMarksTheForegroundStripOnlyOnTheRight) {
    personal_fb.fill(0x00445566);
    compositor.set_source(personal, personal_fb.framebuffer());
    compositor.switch_to(personal);
    ASSERT_TRUE(compositor.present());
    EXPECT_EQ(strip_pixels(strip_colour(Trust::Secure), 0, kWideW), 0U);
    const auto frames = target.frames_presented();

    EXPECT_TRUE(compositor.set_notice(secure, true));
    EXPECT_FALSE(compositor.set_notice(secure, true)); // no change, nothing to draw
    ASSERT_TRUE(compositor.present());
    EXPECT_EQ(target.frames_presented(), frames + 1);
    EXPECT_GT(strip_pixels(strip_colour(Trust::Secure), kWideW / 2, kWideW), 1000U);
    EXPECT_EQ(strip_pixels(strip_colour(Trust::Secure), 0, kWideW / 4), 0U); // personal's label stays
    EXPECT_GT(strip_pixels(strip_colour(Trust::Personal), 0, kWideW / 4), 1000U);
    EXPECT_TRUE(content_is(0x00445566)); // no guest pixel touched
    EXPECT_FALSE(compositor.present());  // drawn once

    EXPECT_TRUE(compositor.set_notice(secure, false));
    ASSERT_TRUE(compositor.present());
    EXPECT_EQ(strip_pixels(strip_colour(Trust::Secure), 0, kWideW), 0U);
}

TEST_F(NoticeTest, ThePersonaShownCarriesNoMarkOfItsOwn) {
    compositor.set_notice(secure, true);
    compositor.switch_to(secure);
    ASSERT_TRUE(compositor.present());
    // Secure's own strip: its colour and its text, no box of another colour and no notice text
    // (its own colour everywhere but the label's glyphs).
    EXPECT_EQ(strip_pixels(strip_colour(Trust::Personal), 0, kWideW), 0U);
    std::size_t text_right = 0;
    for (std::uint32_t y = 0; y < kStrip; ++y)
        for (std::uint32_t x = kWideW / 2; x < kWideW; ++x) text_right += target.screen().at(x, y) == kIndicatorTextColour;
    EXPECT_EQ(text_right, 0U);
    EXPECT_TRUE(compositor.notice(secure)); // kept for when personal is shown again
}

TEST_F(NoticeTest, APersonalNoticeOnSecuresStripUsesPersonalsColour) {
    compositor.switch_to(secure);
    ASSERT_TRUE(compositor.present());
    compositor.set_notice(personal, true);
    ASSERT_TRUE(compositor.present());
    EXPECT_GT(strip_pixels(strip_colour(Trust::Personal), kWideW / 2, kWideW), 1000U);
}

} // namespace
} // namespace twofold::display
