#include <array>
#include <cstring>

#include <gtest/gtest.h>

#include "twofold/display/geometry.h"

namespace twofold::display {
namespace {

constexpr DisplayLimits kLimits{800, 552, 4U << 20};

// A header as Linux xen-fbfront fills it, in private memory.
struct Header {
    std::array<std::byte, kHeaderBytes> bytes{};

    template <typename T>
    void put(std::size_t offset, T value) { std::memcpy(bytes.data() + offset, &value, sizeof value); }
    Header& width(std::int32_t v) { put(kWidthOffset, v); return *this; }
    Header& height(std::int32_t v) { put(kHeightOffset, v); return *this; }
    Header& line_length(std::uint32_t v) { put(kLineLengthOffset, v); return *this; }
    Header& mem_length(std::uint32_t v) { put(kMemLengthOffset, v); return *this; }
    Header& depth(std::uint8_t v) { put(kDepthOffset, v); return *this; }
    Header& pd(std::size_t i, std::uint64_t gfn) { put(kPageDirectoryOffset + i * 8, gfn); return *this; }

    static Header valid() {
        Header h;
        h.width(800).height(552).line_length(3200).mem_length(3200 * 552).depth(32).pd(0, 0x1234);
        return h;
    }
    [[nodiscard]] Result<FramebufferGeometry> parse(const DisplayLimits& limits = kLimits) const {
        return parse_framebuffer_header(std::span<const std::byte, kHeaderBytes>{bytes}, limits);
    }
};

TEST(VfbGeometry, AcceptsTheLinuxFrontendLayout) {
    const auto geometry = Header::valid().parse();
    ASSERT_TRUE(geometry) << geometry.error().message;
    EXPECT_EQ(geometry.value().width, 800U);
    EXPECT_EQ(geometry.value().height, 552U);
    EXPECT_EQ(geometry.value().line_length, 3200U);
    EXPECT_EQ(geometry.value().frame_count, (3200U * 552U + 4095U) / 4096U);
    EXPECT_EQ(geometry.value().directory_page_count, 1U);
    EXPECT_EQ(geometry.value().directory_frames()[0], 0x1234U);
}

TEST(VfbGeometry, RejectsDepthOtherThan32) {
    for (std::uint8_t depth : {0, 8, 16, 24, 31, 33, 255}) {
        const auto geometry = Header::valid().depth(depth).parse();
        ASSERT_FALSE(geometry) << int{depth};
        EXPECT_NE(geometry.error().message.find("depth"), std::string::npos);
    }
}

TEST(VfbGeometry, RejectsZeroNegativeAndOversizedWidth) {
    for (std::int32_t width : {0, -1, -800, 801, 4097, INT32_MAX, INT32_MIN}) {
        EXPECT_FALSE(Header::valid().width(width).parse()) << width;
    }
}

TEST(VfbGeometry, RejectsZeroNegativeAndOversizedHeight) {
    for (std::int32_t height : {0, -1, 553, INT32_MAX, INT32_MIN}) {
        EXPECT_FALSE(Header::valid().height(height).parse()) << height;
    }
}

TEST(VfbGeometry, HardCeilingAppliesWhateverTheConfiguredModeSays) {
    const DisplayLimits huge{100000, 100000, std::size_t{1} << 40};
    const auto geometry = Header::valid().width(5000).line_length(20000).mem_length(20000 * 552).parse(huge);
    ASSERT_FALSE(geometry);
    EXPECT_NE(geometry.error().message.find("width"), std::string::npos);
}

TEST(VfbGeometry, RejectsLineLengthShorterThanARow) {
    EXPECT_FALSE(Header::valid().line_length(3199).parse());
    EXPECT_FALSE(Header::valid().line_length(0).parse());
}

TEST(VfbGeometry, RejectsLineLengthBeyondTheBound) {
    EXPECT_FALSE(Header::valid().line_length(kMaxLineLength + 4).mem_length(4U << 20).parse());
    EXPECT_FALSE(Header::valid().line_length(UINT32_MAX).parse());
}

TEST(VfbGeometry, RejectsLineLengthThatIsNotWholePixels) {
    const auto geometry = Header::valid().line_length(3202).mem_length(3202 * 552).parse();
    ASSERT_FALSE(geometry);
    EXPECT_NE(geometry.error().message.find("whole"), std::string::npos);
}

TEST(VfbGeometry, AcceptsPaddedRows) {
    const auto geometry = Header::valid().line_length(4096).mem_length(4096 * 552).pd(1, 0x77).parse();
    ASSERT_TRUE(geometry) << geometry.error().message;
    EXPECT_EQ(geometry.value().line_length, 4096U);
}

TEST(VfbGeometry, RejectsMemLengthSmallerThanTheFrame) {
    const auto geometry = Header::valid().mem_length(3200 * 552 - 1).parse();
    ASSERT_FALSE(geometry);
    EXPECT_NE(geometry.error().message.find("below"), std::string::npos);
}

TEST(VfbGeometry, RejectsMemLengthBeyondThePerGuestLimit) {
    const auto geometry = Header::valid().mem_length((4U << 20) + 1).parse();
    ASSERT_FALSE(geometry);
    EXPECT_NE(geometry.error().message.find("beyond"), std::string::npos);
    EXPECT_FALSE(Header::valid().mem_length(UINT32_MAX).parse({800, 552, std::size_t{1} << 40}));
}

TEST(VfbGeometry, MemLengthRoundsUpToWholeFramesAndDirectoryPages) {
    // 2 MiB + 1 byte: 513 frames, two directory pages.
    const auto geometry =
        Header::valid().mem_length((2U << 20) + 1).pd(1, 0x99).parse({800, 552, 4U << 20});
    ASSERT_TRUE(geometry) << geometry.error().message;
    EXPECT_EQ(geometry.value().frame_count, 513U);
    EXPECT_EQ(geometry.value().directory_page_count, 2U);
}

TEST(VfbGeometry, RejectsZeroDirectoryEntryInUse) {
    const auto geometry = Header::valid().mem_length((2U << 20) + 1).parse();
    ASSERT_FALSE(geometry);
    EXPECT_NE(geometry.error().message.find("pd[1]"), std::string::npos);
    EXPECT_FALSE(Header::valid().pd(0, 0).parse());
}

TEST(VfbGeometry, RejectsDirectoryEntryBeyondTheFrameSpace) {
    EXPECT_FALSE(Header::valid().pd(0, xenbus::kMaxGfn + 1).parse());
    EXPECT_FALSE(Header::valid().pd(0, UINT64_MAX).parse());
    EXPECT_TRUE(Header::valid().pd(0, xenbus::kMaxGfn).parse());
}

TEST(VfbGeometry, IgnoresDirectoryEntriesBeyondTheFrame) {
    // Entries past those the frame needs are never used, so garbage there is harmless.
    EXPECT_TRUE(Header::valid().pd(5, UINT64_MAX).parse());
}

TEST(VfbGeometry, RefusesThirtyTwoBitProtocol) {
    EXPECT_FALSE(check_protocol("x86_32-abi"));
    EXPECT_TRUE(check_protocol("arm-abi"));
    EXPECT_TRUE(check_protocol("x86_64-abi"));
    EXPECT_FALSE(check_protocol("arm-abi\n"));
}

TEST(VfbFrameList, ParsesOneEntryPerFrame) {
    auto geometry = Header::valid().parse().value();
    std::vector<std::byte> directory(geometry.frame_count * 8);
    for (std::size_t i = 0; i < geometry.frame_count; ++i) {
        const std::uint64_t gfn = 100 + i;
        std::memcpy(directory.data() + i * 8, &gfn, 8);
    }
    const auto frames = parse_frame_list(directory, geometry);
    ASSERT_TRUE(frames) << frames.error().message;
    ASSERT_EQ(frames.value().size(), geometry.frame_count);
    EXPECT_EQ(frames.value().back(), 100 + geometry.frame_count - 1);
}

TEST(VfbFrameList, RejectsAZeroOrOutOfRangeFrame) {
    auto geometry = Header::valid().parse().value();
    std::vector<std::byte> directory(geometry.frame_count * 8);
    for (std::size_t i = 0; i < geometry.frame_count; ++i) directory[i * 8] = std::byte{1};
    EXPECT_TRUE(parse_frame_list(directory, geometry));
    std::memset(directory.data() + 8 * 7, 0, 8);
    const auto zero = parse_frame_list(directory, geometry);
    ASSERT_FALSE(zero);
    EXPECT_NE(zero.error().message.find("frame 7"), std::string::npos);
    std::memset(directory.data() + 8 * 7, 0xFF, 8);
    EXPECT_FALSE(parse_frame_list(directory, geometry));
}

TEST(VfbFrameList, RejectsACopyTooShortForTheFrame) {
    auto geometry = Header::valid().parse().value();
    std::vector<std::byte> directory(geometry.frame_count * 8 - 1, std::byte{1});
    EXPECT_FALSE(parse_frame_list(directory, geometry));
}

} // namespace
} // namespace twofold::display
