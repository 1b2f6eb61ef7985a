// The copy primitives every ring uses: exact bytes at any alignment and length.
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include <gtest/gtest.h>

#include "twofold/rings/shared_memory.h"

namespace twofold::rings {
namespace {

struct Buffers {
    Buffers() {
        for (std::size_t i = 0; i < source.size(); ++i) {
            source[i] = static_cast<std::byte>(i * 37 + 11);
        }
    }
    alignas(8) std::array<std::byte, 96> source{};
    alignas(8) std::array<std::byte, 96> target{};
};

TEST(SharedMemory, CopyFromSharedIsExactAtUnalignedOffsetsAndOddLengths) {
    Buffers b;
    const auto src = std::span{b.source}.subspan(3, 61);
    const auto dst = std::span{b.target}.subspan(5, 61);

    copy_from_shared(dst, src);

    EXPECT_EQ(std::memcmp(dst.data(), src.data(), src.size()), 0);
    EXPECT_EQ(b.target[4], std::byte{0});  // nothing before
    EXPECT_EQ(b.target[66], std::byte{0}); // nothing after
}

TEST(SharedMemory, CopyToSharedIsExactAtUnalignedOffsetsAndOddLengths) {
    Buffers b;
    const auto src = std::span<const std::byte>{b.source}.subspan(1, 23);
    const auto dst = std::span{b.target}.subspan(7, 23);

    copy_to_shared(dst, src);

    EXPECT_EQ(std::memcmp(dst.data(), src.data(), src.size()), 0);
    EXPECT_EQ(b.target[6], std::byte{0});
    EXPECT_EQ(b.target[30], std::byte{0});
}

TEST(SharedMemory, CopyStopsAtTheShorterSpan) {
    Buffers b;
    copy_from_shared(std::span{b.target}.first(10), std::span<const std::byte>{b.source}.first(4));
    EXPECT_EQ(b.target[3], b.source[3]);
    EXPECT_EQ(b.target[4], std::byte{0});
}

TEST(SharedMemory, ZeroSharedClearsExactlyTheSpan) {
    Buffers b;
    zero_shared(std::span{b.source}.subspan(3, 20));
    EXPECT_EQ(b.source[2], static_cast<std::byte>(2 * 37 + 11));
    EXPECT_EQ(b.source[3], std::byte{0});
    EXPECT_EQ(b.source[22], std::byte{0});
    EXPECT_EQ(b.source[23], static_cast<std::byte>(23 * 37 + 11));
}

TEST(SharedMemory, FitsRejectsRangesThatWouldOverflow) {
    EXPECT_TRUE(fits(4096, 4092, 4));
    EXPECT_FALSE(fits(4096, 4093, 4));
    EXPECT_FALSE(fits(4096, 8, SIZE_MAX));
}

} // namespace
} // namespace twofold::rings
