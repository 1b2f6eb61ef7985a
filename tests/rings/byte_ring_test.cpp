// Console byte rings: the backend reads the guest's `out` and writes the guest's `in`.
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <gtest/gtest.h>

#include "test_support.h"
#include "twofold/rings/byte_ring.h"

namespace twofold::rings {
namespace {

constexpr std::size_t kOutSize = 2048;
constexpr std::size_t kInSize = 1024;

// The guest side of the console, written from console.h (as hvc_xen does).
class GuestConsole {
public:
    explicit GuestConsole(const test::SharedPages& shared) : shared_(shared) {}

    void write_out(std::string_view text) {
        std::uint32_t prod = shared_.read_word(ConsoleRing::kOut.prod_offset);
        for (char c : text) {
            const std::size_t at = ConsoleRing::kOut.data_offset + (prod & (kOutSize - 1));
            copy_to_shared(shared_.bytes().subspan(at, 1), std::as_bytes(std::span{&c, 1}));
            ++prod;
        }
        shared_.write_word(ConsoleRing::kOut.prod_offset, prod);
    }
    std::string read_in() {
        std::uint32_t cons = shared_.read_word(ConsoleRing::kIn.cons_offset);
        const std::uint32_t prod = shared_.read_word(ConsoleRing::kIn.prod_offset);
        std::string text;
        for (; cons != prod; ++cons) {
            char c{};
            copy_from_shared(std::as_writable_bytes(std::span{&c, 1}),
                             shared_.bytes().subspan(ConsoleRing::kIn.data_offset + (cons & (kInSize - 1)), 1));
            text.push_back(c);
        }
        shared_.write_word(ConsoleRing::kIn.cons_offset, cons);
        return text;
    }

private:
    const test::SharedPages& shared_;
};

std::string as_text(std::span<const std::byte> bytes) {
    return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}
std::span<const std::byte> as_span(std::string_view text) { return std::as_bytes(std::span{text.data(), text.size()}); }

TEST(ConsoleRing, ReadsWhatTheGuestWrote) {
    test::SharedPages shared(1);
    ConsoleRing console(shared.bytes());
    GuestConsole guest(shared);
    guest.write_out("hello, dom0");
    std::array<std::byte, 64> buffer{};

    const auto result = console.read_output(buffer);

    EXPECT_EQ(as_text(std::span{buffer}.first(result.bytes)), "hello, dom0");
    EXPECT_FALSE(result.more_pending);
    EXPECT_EQ(shared.read_word(ConsoleRing::kOut.cons_offset), 11U);
}

TEST(ConsoleRing, ReadIsBoundedByTheBufferAndReportsTheRest) {
    test::SharedPages shared(1);
    ConsoleRing console(shared.bytes());
    GuestConsole guest(shared);
    guest.write_out("0123456789");
    std::array<std::byte, 4> buffer{};

    const auto first = console.read_output(buffer);

    EXPECT_EQ(as_text(std::span{buffer}.first(first.bytes)), "0123");
    EXPECT_TRUE(first.more_pending);
}

TEST(ConsoleRing, ReadWrapsAroundTheDataArea) {
    test::SharedPages shared(1);
    // Both sides start near the end of `out`, as after a long-running session.
    shared.write_word(ConsoleRing::kOut.cons_offset, kOutSize - 3);
    shared.write_word(ConsoleRing::kOut.prod_offset, kOutSize - 3);
    ConsoleRing console(shared.bytes());
    GuestConsole guest(shared);
    guest.write_out("wrapped!");
    std::array<std::byte, 64> buffer{};

    const auto result = console.read_output(buffer);

    EXPECT_EQ(as_text(std::span{buffer}.first(result.bytes)), "wrapped!");
}

TEST(ConsoleRing, OverflowingOutProducerFaults) {
    test::SharedPages shared(1);
    ConsoleRing console(shared.bytes());
    shared.write_word(ConsoleRing::kOut.prod_offset, kOutSize + 1);
    std::array<std::byte, 64> buffer{};

    const auto result = console.read_output(buffer);

    EXPECT_EQ(result.fault, RingFault::producer_overflow);
    EXPECT_EQ(result.bytes, 0U);
    EXPECT_EQ(console.fault(), RingFault::producer_overflow);
}

TEST(ConsoleRing, GuestRewritingOutConsIsIgnored) {
    // Our consumer index is private: a guest that moves out_cons cannot make us re-read or
    // skip data, nor turn a valid out_prod into an "overflow".
    test::SharedPages shared(1);
    ConsoleRing console(shared.bytes());
    GuestConsole guest(shared);
    guest.write_out("abc");
    std::array<std::byte, 64> buffer{};
    ASSERT_EQ(console.read_output(buffer).bytes, 3U);
    shared.write_word(ConsoleRing::kOut.cons_offset, 0xDEAD0000U);
    guest.write_out("def");

    const auto result = console.read_output(buffer);

    EXPECT_FALSE(result.fault.has_value());
    EXPECT_EQ(as_text(std::span{buffer}.first(result.bytes)), "def");
}

TEST(ConsoleRing, WriteStopsAtFreeSpaceAndNeverOverwritesUnreadBytes) {
    test::SharedPages shared(1);
    ConsoleRing console(shared.bytes());
    const std::string big(kInSize + 100, 'x');

    const auto first = console.write_input(as_span(big));
    const auto second = console.write_input(as_span("more"));

    EXPECT_EQ(first.written, kInSize);
    EXPECT_EQ(second.written, 0U);
    EXPECT_FALSE(second.fault.has_value());
}

TEST(ConsoleRing, WriteResumesAfterTheGuestReads) {
    test::SharedPages shared(1);
    ConsoleRing console(shared.bytes());
    GuestConsole guest(shared);
    ASSERT_EQ(console.write_input(as_span(std::string(kInSize, 'a'))).written, kInSize);
    ASSERT_EQ(guest.read_in().size(), kInSize);

    const auto result = console.write_input(as_span("hi"));

    EXPECT_EQ(result.written, 2U);
    EXPECT_EQ(guest.read_in(), "hi");
}

TEST(ConsoleRing, InConsumerAheadOfOurProducerFaults) {
    test::SharedPages shared(1);
    ConsoleRing console(shared.bytes());
    shared.write_word(ConsoleRing::kIn.cons_offset, 5); // consumed 5 bytes we never wrote

    const auto result = console.write_input(as_span("x"));

    EXPECT_EQ(result.fault, RingFault::consumer_overrun);
    EXPECT_EQ(result.written, 0U);
}

TEST(ConsoleRing, FaultedConsoleLeavesAnotherConsoleWorking) {
    test::SharedPages bad_page(1);
    test::SharedPages good_page(1);
    ConsoleRing bad(bad_page.bytes());
    ConsoleRing good(good_page.bytes());
    bad_page.write_word(ConsoleRing::kOut.prod_offset, 0x80000000U);
    GuestConsole(good_page).write_out("ok");
    std::array<std::byte, 8> buffer{};

    ASSERT_TRUE(bad.read_output(buffer).fault.has_value());
    const auto result = good.read_output(buffer);

    EXPECT_EQ(as_text(std::span{buffer}.first(result.bytes)), "ok");
}

TEST(ByteRing, GeometryOutsideTheMappingIsRejected) {
    test::SharedPages shared(1);
    const ByteRingGeometry beyond{4000, 256, 0, 4};
    EXPECT_THROW(ByteRingReader(shared.bytes(), beyond), std::invalid_argument);
}

} // namespace
} // namespace twofold::rings
