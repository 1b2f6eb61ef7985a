// Output selection and buffer arithmetic as pure functions (no DRM device needed), and the
// DRM/fbdev targets' errors on devices that are missing or are not what they claim.
#include <cstddef>
#include <cstring>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "twofold/display/drm_output.h"
#include "twofold/display/fbdev_output.h"
#include "twofold/display/output.h"

namespace twofold::display {
namespace {

using ::testing::HasSubstr;

// --- command line values ---

TEST(OutputSpec, HeadlessHasNoDevice) {
    const auto spec = parse_output_spec("headless");
    ASSERT_TRUE(spec);
    EXPECT_EQ(spec.value(), (OutputSpec{OutputKind::Headless, {}}));
}

TEST(OutputSpec, DrmDefaultsToCard0) {
    const auto spec = parse_output_spec("drm");
    ASSERT_TRUE(spec);
    EXPECT_EQ(spec.value(), (OutputSpec{OutputKind::Drm, "/dev/dri/card0"}));
}

TEST(OutputSpec, DrmTakesAnExplicitCard) {
    const auto spec = parse_output_spec("drm:/dev/dri/card1");
    ASSERT_TRUE(spec);
    EXPECT_EQ(spec.value(), (OutputSpec{OutputKind::Drm, "/dev/dri/card1"}));
}

TEST(OutputSpec, FbdevTakesAnExplicitDevice) {
    const auto spec = parse_output_spec("fbdev:/dev/fb1");
    ASSERT_TRUE(spec);
    EXPECT_EQ(spec.value(), (OutputSpec{OutputKind::Fbdev, "/dev/fb1"}));
}

TEST(OutputSpec, UnknownKindIsAnErrorNamingTheChoices) {
    const auto spec = parse_output_spec("vnc:5900");
    ASSERT_FALSE(spec);
    EXPECT_THAT(spec.error().message, HasSubstr("headless, drm[:DEVICE] or fbdev[:DEVICE]"));
}

TEST(OutputSpec, EmptyDeviceAfterColonIsAnError) { EXPECT_FALSE(parse_output_spec("drm:")); }

TEST(ModeRequestParse, WidthByHeight) {
    const auto mode = parse_mode_request("1280x800");
    ASSERT_TRUE(mode);
    EXPECT_EQ(mode.value(), (ModeRequest{1280, 800}));
}

TEST(ModeRequestParse, ZeroMissingOrHugeSidesAreErrors) {
    EXPECT_FALSE(parse_mode_request("0x600"));
    EXPECT_FALSE(parse_mode_request("800x"));
    EXPECT_FALSE(parse_mode_request("800"));
    EXPECT_FALSE(parse_mode_request("800x600x2"));
    EXPECT_FALSE(parse_mode_request("99999x600"));
    EXPECT_FALSE(parse_mode_request("-800x600"));
}

// --- buffer arithmetic ---

TEST(BufferLayout, PaddedPitchIsAccepted) {
    const auto layout = check_buffer_layout(100, 10, 448, 4480);
    ASSERT_TRUE(layout);
    EXPECT_EQ(layout.value(), (BufferLayout{100, 10, 448, 4480}));
}

TEST(BufferLayout, PitchShorterThanARowIsRefused) {
    const auto layout = check_buffer_layout(100, 10, 396, 4000);
    ASSERT_FALSE(layout);
    EXPECT_THAT(layout.error().message, HasSubstr("pitch 396"));
}

TEST(BufferLayout, PitchNotAMultipleOfFourIsRefused) { EXPECT_FALSE(check_buffer_layout(100, 10, 402, 8000)); }

TEST(BufferLayout, SizeSmallerThanPitchTimesHeightIsRefused) {
    const auto layout = check_buffer_layout(100, 10, 400, 3999);
    ASSERT_FALSE(layout);
    EXPECT_THAT(layout.error().message, HasSubstr("smaller than 4000"));
}

TEST(BufferLayout, AbsurdPitchCannotOverflowTheSize) {
    // pitch * height would wrap a 64-bit product if it were not bounded first.
    EXPECT_FALSE(check_buffer_layout(100, 8192, 0x4000000000000000ULL, ~0ULL));
}

TEST(CopyToBuffer, CopiesOnlyTheDamageRowsAtTheBufferPitch) {
    Screen screen(4, 3);
    screen.fill(Rect{0, 0, 4, 3}, 0x00ABCDEF);
    const BufferLayout layout{4, 3, 32, 96}; // 16 bytes of padding per row
    std::vector<std::byte> buffer(96, std::byte{0});
    copy_to_buffer(screen, Rect{1, 1, 2, 1}, buffer, layout);
    const auto pixel = [&](std::size_t x, std::size_t y) {
        std::uint32_t value = 0;
        std::memcpy(&value, buffer.data() + y * 32 + x * 4, 4);
        return value;
    };
    EXPECT_EQ(pixel(1, 1), 0x00ABCDEFU);
    EXPECT_EQ(pixel(2, 1), 0x00ABCDEFU);
    EXPECT_EQ(pixel(0, 1), 0U);
    EXPECT_EQ(pixel(3, 1), 0U);
    EXPECT_EQ(pixel(1, 0), 0U);
    EXPECT_EQ(pixel(1, 2), 0U);
}

TEST(CopyToBuffer, DamageBeyondTheBufferIsClipped) {
    Screen screen(8, 8);
    screen.fill(Rect{0, 0, 8, 8}, 0x00FFFFFF);
    const BufferLayout layout{4, 4, 16, 64}; // a smaller buffer than the screen
    std::vector<std::byte> buffer(64, std::byte{0});
    copy_to_buffer(screen, Rect{2, 2, 100, 100}, buffer, layout);
    EXPECT_EQ(buffer[15 * 4], std::byte{0xFF}); // (3,3), the last pixel, written
    EXPECT_EQ(buffer[0], std::byte{0});         // (0,0) outside the damage
}

TEST(CopyToBuffer, LayoutLargerThanTheBufferWritesNothing) {
    Screen screen(4, 4);
    screen.fill(Rect{0, 0, 4, 4}, 0x00FFFFFF);
    std::vector<std::byte> buffer(32, std::byte{0});
    copy_to_buffer(screen, Rect{0, 0, 4, 4}, buffer, BufferLayout{4, 4, 16, 64});
    EXPECT_EQ(buffer[0], std::byte{0});
}

// --- connector, mode and CRTC choice ---

ConnectorInfo connector(std::uint32_t id, bool connected, std::vector<ModeInfo> modes,
                        std::vector<std::uint32_t> encoders = {50}, std::uint32_t current = 0) {
    return ConnectorInfo{id, connected, std::move(modes), std::move(encoders), current};
}

TEST(ChooseMode, PreferredModeWinsOverTheFirst) {
    const std::vector<ModeInfo> modes{{1920, 1080, 60, false}, {1280, 800, 60, true}};
    const auto mode = choose_mode(modes, std::nullopt);
    ASSERT_TRUE(mode);
    EXPECT_EQ(mode.value(), 1U);
}

TEST(ChooseMode, WithoutAPreferredModeTheFirstIsTaken) {
    const std::vector<ModeInfo> modes{{1024, 768, 60, false}, {800, 600, 60, false}};
    const auto mode = choose_mode(modes, std::nullopt);
    ASSERT_TRUE(mode);
    EXPECT_EQ(mode.value(), 0U);
}

TEST(ChooseMode, RequestedSizeTakesTheFastestMatchingMode) {
    const std::vector<ModeInfo> modes{{1280, 800, 60, true}, {800, 600, 56, false}, {800, 600, 75, false}};
    const auto mode = choose_mode(modes, ModeRequest{800, 600});
    ASSERT_TRUE(mode);
    EXPECT_EQ(mode.value(), 2U);
}

TEST(ChooseMode, RequestNotOfferedListsTheModes) {
    const std::vector<ModeInfo> modes{{1280, 800, 60, true}, {800, 600, 60, false}};
    const auto mode = choose_mode(modes, ModeRequest{640, 480});
    ASSERT_FALSE(mode);
    EXPECT_THAT(mode.error().message, HasSubstr("640x480 not offered (modes: 1280x800, 800x600)"));
}

TEST(ChooseMode, ModesBeyondTheSizeLimitAreNeverChosen) {
    const std::vector<ModeInfo> modes{{16384, 16384, 60, true}, {800, 600, 60, false}};
    const auto mode = choose_mode(modes, std::nullopt);
    ASSERT_TRUE(mode);
    EXPECT_EQ(mode.value(), 1U);
}

TEST(ChooseCrtc, TheCurrentEncodersCrtcIsKept) {
    const CardInfo card{{31, 32}, {}, {{50, 0b11, 32}}};
    const auto crtc = choose_crtc(card, connector(40, true, {}, {50}, 50));
    ASSERT_TRUE(crtc);
    EXPECT_EQ(crtc.value(), 32U);
}

TEST(ChooseCrtc, WithoutACurrentOneTheFirstPossibleCrtcIsTaken) {
    const CardInfo card{{31, 32, 33}, {}, {{50, 0b110, 0}}};
    const auto crtc = choose_crtc(card, connector(40, true, {}, {50}));
    ASSERT_TRUE(crtc);
    EXPECT_EQ(crtc.value(), 32U);
}

TEST(ChooseCrtc, NoPossibleCrtcIsAnError) {
    const CardInfo card{{31}, {}, {{50, 0, 0}}};
    EXPECT_FALSE(choose_crtc(card, connector(40, true, {}, {50})));
}

TEST(ChooseOutput, DisconnectedAndModelessConnectorsAreSkipped) {
    const CardInfo card{{31},
                        {connector(40, false, {{1920, 1080, 60, true}}), connector(41, true, {}),
                         connector(42, true, {{1280, 800, 60, true}})},
                        {{50, 0b1, 0}}};
    const auto choice = choose_output(card, std::nullopt);
    ASSERT_TRUE(choice);
    EXPECT_EQ(choice.value(), (OutputChoice{2, 0, 31}));
}

TEST(ChooseOutput, NoConnectedConnectorIsAnError) {
    const CardInfo card{{31}, {connector(40, false, {{1920, 1080, 60, true}})}, {{50, 0b1, 0}}};
    const auto choice = choose_output(card, std::nullopt);
    ASSERT_FALSE(choice);
    EXPECT_THAT(choice.error().message, HasSubstr("no connected connector"));
}

// --- fbdev format ---

FbdevInfo xrgb(std::uint32_t width, std::uint32_t height) {
    return FbdevInfo{width, height, 32, 16, 8, 0, width * 4, width * height * 4, true};
}

TEST(FbdevFormat, Xrgb8888IsAccepted) {
    const auto layout = check_fbdev_format(xrgb(800, 600));
    ASSERT_TRUE(layout);
    EXPECT_EQ(layout.value(), (BufferLayout{800, 600, 3200, 3200 * 600}));
}

TEST(FbdevFormat, SixteenBitsPerPixelIsRefusedClearly) {
    FbdevInfo info = xrgb(800, 600);
    info.bits_per_pixel = 16;
    const auto layout = check_fbdev_format(info);
    ASSERT_FALSE(layout);
    EXPECT_THAT(layout.error().message, HasSubstr("16 bpp: only 32 bpp"));
}

TEST(FbdevFormat, BgrChannelOrderIsRefused) {
    FbdevInfo info = xrgb(800, 600);
    info.red_offset = 0;
    info.blue_offset = 16;
    EXPECT_FALSE(check_fbdev_format(info));
}

TEST(FbdevFormat, MemorySmallerThanTheModeIsRefused) {
    FbdevInfo info = xrgb(800, 600);
    info.smem_len = 3200 * 599;
    EXPECT_FALSE(check_fbdev_format(info));
}

// --- devices that are not there, or not what they claim ---

TEST(DrmTargetOpen, MissingDeviceSaysNoSuchDevice) {
    const auto target = DrmTarget::open("/dev/dri/card-does-not-exist", std::nullopt);
    ASSERT_FALSE(target);
    EXPECT_EQ(target.error().message, "/dev/dri/card-does-not-exist: no such device");
}

TEST(DrmTargetOpen, CharacterDeviceThatIsNoDrmCardIsRefused) {
    const auto target = DrmTarget::open("/dev/null", std::nullopt);
    ASSERT_FALSE(target);
    EXPECT_EQ(target.error().message, "/dev/null is not a DRM device");
}

TEST(FbdevTargetOpen, MissingDeviceSaysNoSuchDevice) {
    const auto target = FbdevTarget::open("/dev/fb-does-not-exist");
    ASSERT_FALSE(target);
    EXPECT_EQ(target.error().message, "/dev/fb-does-not-exist: no such device");
}

TEST(FbdevTargetOpen, CharacterDeviceThatIsNoFramebufferIsRefused) {
    const auto target = FbdevTarget::open("/dev/null");
    ASSERT_FALSE(target);
    EXPECT_THAT(target.error().message, HasSubstr("/dev/null is not a framebuffer device"));
}

TEST(OpenOutput, HeadlessTakesTheModeRequest) {
    const auto target = open_output(OutputSpec{}, ModeRequest{320, 200}, ModeRequest{800, 600});
    ASSERT_TRUE(target);
    EXPECT_EQ(target.value()->screen().width(), 320U);
    EXPECT_EQ(target.value()->screen().height(), 200U);
}

TEST(OpenOutput, FbdevRefusesAModeRequest) {
    const auto target = open_output(OutputSpec{OutputKind::Fbdev, "/dev/fb0"}, ModeRequest{320, 200},
                                    ModeRequest{800, 600});
    ASSERT_FALSE(target);
    EXPECT_THAT(target.error().message, HasSubstr("current mode"));
}

} // namespace
} // namespace twofold::display
