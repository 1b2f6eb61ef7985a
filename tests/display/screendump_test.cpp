// Screens as the board shows them: each persona's guest has drawn fbpattern's pattern
// (vmm/display/tools/fbpattern.h) and the compositor presents it under dom0's strip. The frames
// are written as PPMs into $TWOFOLD_SCREENDUMP_DIR for check_screendump_test.py, which runs the
// board's checker (vmm/display/tools/check-screendump) on them. Two forged screens (an indicator
// over the other persona's pixels, a guest drawing the other persona's pattern) are written
// too, so the checker is shown to refuse them.
#include <cstdlib>
#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include "../../vmm/display/tools/fbpattern.h"
#include "support.h"
#include "twofold/display/compositor.h"

namespace twofold::display {
namespace {

using testing::packed_geometry;
using testing::PrivateFramebuffer;

// The lab board's panel (virtio-gpu 1280x800) and xen-fbfront's default 800x600 guest mode.
constexpr std::uint32_t kScreenW = 1280;
constexpr std::uint32_t kScreenH = 800;
constexpr std::uint32_t kGuestW = 800;
constexpr std::uint32_t kGuestH = 600;

void draw_pattern(PrivateFramebuffer& fb, fbpattern_persona persona) {
    for (std::uint32_t y = 0; y < fb.geometry().height; ++y)
        for (std::uint32_t x = 0; x < fb.geometry().width; ++x) fb.set(x, y, fbpattern_pixel(persona, x, y));
}

class ScreendumpTest : public ::testing::Test {
protected:
    HeadlessTarget target{kScreenW, kScreenH};
    Compositor compositor{target};
    PersonaId personal = compositor.add_persona({"personal", Trust::Personal});
    PersonaId secure = compositor.add_persona({"secure", Trust::Secure});
    PrivateFramebuffer personal_fb{packed_geometry(kGuestW, kGuestH)};
    PrivateFramebuffer secure_fb{packed_geometry(kGuestW, kGuestH)};

    static std::filesystem::path out(const std::string& name) {
        const char* dir = std::getenv("TWOFOLD_SCREENDUMP_DIR");
        const std::filesystem::path base = dir != nullptr ? dir : ".";
        std::filesystem::create_directories(base);
        return base / name;
    }
    void show(PersonaId persona) {
        compositor.switch_to(persona);
        ASSERT_TRUE(compositor.present());
    }
    void dump(const std::string& name) {
        const auto written = target.screen().write_ppm(out(name));
        ASSERT_TRUE(written) << written.error().message;
    }
    [[nodiscard]] std::uint32_t content(std::uint32_t x, std::uint32_t y) const {
        return target.screen().at(x, kDefaultStripHeight + y);
    }
};

TEST_F(ScreendumpTest, PersonalForegroundShowsBarsUnderThePersonalStrip) {
    draw_pattern(personal_fb, FBPATTERN_PERSONAL);
    compositor.set_source(personal, personal_fb.framebuffer());
    show(personal);
    EXPECT_EQ(content(16, 16), FBPATTERN_PERSONAL_A);
    EXPECT_EQ(content(48, 16), FBPATTERN_PERSONAL_B);
    EXPECT_EQ(target.screen().at(kScreenW - 1, 0), kPersonalStripColour);
    dump("personal.ppm");
}

TEST_F(ScreendumpTest, SecuresNoticeMarksPersonalsStrip) {
    draw_pattern(personal_fb, FBPATTERN_PERSONAL);
    compositor.set_source(personal, personal_fb.framebuffer());
    show(personal);
    ASSERT_TRUE(compositor.set_notice(secure, true));
    ASSERT_TRUE(compositor.present());
    EXPECT_EQ(content(16, 16), FBPATTERN_PERSONAL_A); // the guest's pixels are untouched
    EXPECT_EQ(target.screen().at(kScreenW - 1, 0), kPersonalStripColour);
    EXPECT_EQ(target.screen().at(kScreenW - 20, kDefaultStripHeight / 2), kSecureStripColour);
    dump("personal-secure-notice.ppm");
}

TEST_F(ScreendumpTest, SecureForegroundShowsTheCheckerboardUnderTheSecureStrip) {
    draw_pattern(personal_fb, FBPATTERN_PERSONAL);
    draw_pattern(secure_fb, FBPATTERN_SECURE);
    compositor.set_source(personal, personal_fb.framebuffer());
    compositor.set_source(secure, secure_fb.framebuffer());
    show(personal);
    show(secure);
    EXPECT_EQ(content(16, 16), FBPATTERN_SECURE_A);
    EXPECT_EQ(content(48, 16), FBPATTERN_SECURE_B);
    EXPECT_EQ(content(FBPATTERN_MARKER_X, FBPATTERN_MARKER_Y), FBPATTERN_SECURE_MARKER);
    EXPECT_EQ(target.screen().at(kScreenW - 1, 0), kSecureStripColour);
    dump("secure.ppm");
}

// Not a frame the compositor can produce: the secure strip painted over the personal
// persona's pixels, as a broken compositor would show them.
TEST_F(ScreendumpTest, ForgedSecureStripOverPersonalContent) {
    draw_pattern(personal_fb, FBPATTERN_PERSONAL);
    compositor.set_source(personal, personal_fb.framebuffer());
    show(personal);
    draw_indicator(target.screen(), kDefaultStripHeight, PersonaLabel{"secure", Trust::Secure});
    dump("forged-strip.ppm");
}

// A personal guest drawing the secure pattern still shows under its own (personal) strip.
TEST_F(ScreendumpTest, PersonalGuestDrawingTheSecurePattern) {
    draw_pattern(personal_fb, FBPATTERN_SECURE);
    compositor.set_source(personal, personal_fb.framebuffer());
    show(personal);
    EXPECT_EQ(target.screen().at(kScreenW - 1, 0), kPersonalStripColour);
    dump("personal-draws-secure.ppm");
}

TEST_F(ScreendumpTest, PersonaWithoutAFramebufferShowsOnlyItsStrip) {
    show(secure);
    EXPECT_EQ(content(16, 16), 0U);
    dump("secure-no-guest.ppm");
}

// dom0's PIN prompt after a wrong PIN: three dots typed since, the status line of 24 characters.
TEST_F(ScreendumpTest, PinPromptShowsDotsAndStatusUnderTheSecureStrip) {
    draw_pattern(secure_fb, FBPATTERN_SECURE);
    compositor.set_source(secure, secure_fb.framebuffer());
    show(secure);
    compositor.show_prompt(secure, 1, PromptScreen{3, "WRONG PIN - 4 TRIES LEFT"});
    ASSERT_TRUE(compositor.present());
    EXPECT_EQ(target.screen().at(kScreenW - 1, 0), kSecureStripColour);
    dump("pin-prompt.ppm");
}

} // namespace
} // namespace twofold::display
