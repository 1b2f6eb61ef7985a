#include "twofold/xenbus/xenstore_values.h"

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include <gtest/gtest.h>

namespace twofold::xenbus {
namespace {

TEST(ParseUnsigned, AcceptsZero) {
    auto parsed = parse_unsigned<std::uint32_t>("0", 0, 10);
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(parsed.value(), 0U);
}

TEST(ParseUnsigned, AcceptsPlainDecimal) {
    auto parsed = parse_unsigned<std::uint32_t>("4096", 0, 5000);
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(parsed.value(), 4096U);
}

TEST(ParseUnsigned, AcceptsTypeMaximum) {
    auto parsed = parse_unsigned<std::uint64_t>("18446744073709551615", 0, UINT64_MAX);
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(parsed.value(), UINT64_MAX);
}

TEST(ParseUnsigned, RejectsEmpty) { EXPECT_FALSE(parse_unsigned<std::uint32_t>("", 0, 10).ok()); }

TEST(ParseUnsigned, RejectsMinusSign) { EXPECT_FALSE(parse_unsigned<std::uint32_t>("-1", 0, UINT32_MAX).ok()); }

TEST(ParseUnsigned, RejectsPlusSign) { EXPECT_FALSE(parse_unsigned<std::uint32_t>("+1", 0, 10).ok()); }

TEST(ParseUnsigned, RejectsLeadingWhitespace) { EXPECT_FALSE(parse_unsigned<std::uint32_t>(" 1", 0, 10).ok()); }

TEST(ParseUnsigned, RejectsTrailingNewline) { EXPECT_FALSE(parse_unsigned<std::uint32_t>("1\n", 0, 10).ok()); }

TEST(ParseUnsigned, RejectsEmbeddedNul) {
    EXPECT_FALSE(parse_unsigned<std::uint32_t>(std::string_view("1\0" "2", 3), 0, 100).ok());
}

TEST(ParseUnsigned, RejectsLeadingZero) { EXPECT_FALSE(parse_unsigned<std::uint32_t>("007", 0, 10).ok()); }

TEST(ParseUnsigned, RejectsHex) { EXPECT_FALSE(parse_unsigned<std::uint32_t>("0x10", 0, 100).ok()); }

TEST(ParseUnsigned, RejectsOverflowOfType) {
    auto parsed = parse_unsigned<std::uint16_t>("65536", 0, UINT16_MAX);
    ASSERT_FALSE(parsed.ok());
    EXPECT_NE(parsed.error().message.find("out of range"), std::string::npos);
}

TEST(ParseUnsigned, RejectsTwentyOneDigits) {
    EXPECT_FALSE(parse_unsigned<std::uint64_t>("100000000000000000000", 0, UINT64_MAX).ok());
}

TEST(ParseUnsigned, RejectsBelowMinimum) {
    auto parsed = parse_unsigned<std::uint32_t>("1", 2, 10);
    ASSERT_FALSE(parsed.ok());
    EXPECT_EQ(parsed.error().message, "number 1 outside [2, 10]");
}

TEST(ParseUnsigned, RejectsAboveMaximum) { EXPECT_FALSE(parse_unsigned<std::uint32_t>("11", 2, 10).ok()); }

TEST(ParseUnsigned, ErrorExcerptIsShortAndPrintable) {
    const std::string hostile = "\x1b[31m" + std::string(500, 'A');
    auto parsed = parse_unsigned<std::uint32_t>(std::string_view(hostile).substr(0, 19), 0, 10);
    ASSERT_FALSE(parsed.ok());
    EXPECT_EQ(parsed.error().message.find('\x1b'), std::string::npos);
}

TEST(Excerpt, TruncatesLongInput) { EXPECT_EQ(excerpt(std::string(100, 'x')), std::string(32, 'x') + "..."); }

TEST(Excerpt, ReplacesQuotesAndControlCharacters) { EXPECT_EQ(excerpt("a\"b\nc\\"), "a?b?c?"); }

TEST(ParsePort, RejectsPortZero) { EXPECT_FALSE(parse_port("0").ok()); }

TEST(ParsePort, AcceptsLastFifoPort) { EXPECT_EQ(parse_port("131071").value(), 131071U); }

TEST(ParsePort, RejectsBeyondFifoPorts) { EXPECT_FALSE(parse_port("131072").ok()); }

TEST(ParseGrantRef, AcceptsZero) { EXPECT_EQ(parse_grant_ref("0").value(), 0U); }

TEST(ParseGrantRef, RejectsBeyondMaximum) { EXPECT_FALSE(parse_grant_ref(std::to_string(kMaxGrantRef + 1)).ok()); }

TEST(ParseGfn, RejectsBeyondMaximum) { EXPECT_FALSE(parse_gfn(std::to_string(kMaxGfn + 1)).ok()); }

TEST(ParseDomid, RejectsReservedDomid) { EXPECT_FALSE(parse_domid("32752").ok()); }

TEST(ParseDomid, AcceptsLastGuestDomid) { EXPECT_EQ(parse_domid("32751").value(), 32751U); }

TEST(ParseDevid, RejectsBeyondMaximum) { EXPECT_FALSE(parse_devid("65536").ok()); }

TEST(ParseState, AcceptsConnected) { EXPECT_EQ(parse_state("4").value(), XenbusState::Connected); }

TEST(ParseState, AcceptsReconfigured) { EXPECT_EQ(parse_state("8").value(), XenbusState::Reconfigured); }

TEST(ParseState, RejectsNine) { EXPECT_FALSE(parse_state("9").ok()); }

TEST(ParseState, RejectsName) { EXPECT_FALSE(parse_state("Connected").ok()); }

TEST(XenbusStateText, WritesDecimal) { EXPECT_EQ(to_xenstore(XenbusState::Closed), "6"); }

TEST(ParseBool, AcceptsZeroAndOne) {
    EXPECT_FALSE(parse_bool("0").value());
    EXPECT_TRUE(parse_bool("1").value());
}

TEST(ParseBool, RejectsTrue) { EXPECT_FALSE(parse_bool("true").ok()); }

TEST(ParseBool, RejectsTwo) { EXPECT_FALSE(parse_bool("2").ok()); }

TEST(ParseProtocol, AcceptsArm) { EXPECT_EQ(parse_protocol("arm-abi").value(), Protocol::Arm); }

TEST(ParseProtocol, AcceptsX86_64) { EXPECT_EQ(parse_protocol("x86_64-abi").value(), Protocol::X86_64); }

TEST(ParseProtocol, RejectsCaseVariant) { EXPECT_FALSE(parse_protocol("ARM-abi").ok()); }

TEST(ParseProtocol, RejectsPrefix) { EXPECT_FALSE(parse_protocol("arm-abi\n").ok()); }

TEST(ParseRingPageOrder, AcceptsOurMaximum) {
    EXPECT_EQ(parse_ring_page_order(std::to_string(kMaxRingPageOrder)).value(), kMaxRingPageOrder);
}

TEST(ParseRingPageOrder, RejectsAboveOurMaximum) {
    EXPECT_FALSE(parse_ring_page_order(std::to_string(kMaxRingPageOrder + 1)).ok());
}

TEST(ParseRingPageOrder, CallerMaximumCannotExceedOurs) {
    EXPECT_FALSE(parse_ring_page_order(std::to_string(kMaxRingPageOrder + 1), 30).ok());
}

TEST(ParseRingPageOrder, RejectsAboveCallerMaximum) { EXPECT_FALSE(parse_ring_page_order("2", 1).ok()); }

constexpr std::array<std::string_view, 2> kModes{"portrait", "landscape"};

TEST(ParseNameInSet, ReturnsIndexOfMatch) {
    auto chosen = parse_name_in_set("landscape", kModes);
    ASSERT_TRUE(chosen.ok());
    EXPECT_EQ(chosen.value().index, 1U);
    EXPECT_EQ(chosen.value().name, "landscape");
}

TEST(ParseNameInSet, RejectsUnknownName) { EXPECT_FALSE(parse_name_in_set("square", kModes).ok()); }

TEST(ParseNameInSet, RejectsOverlongName) {
    EXPECT_FALSE(parse_name_in_set(std::string(kMaxNameLength + 1, 'p'), kModes).ok());
}

} // namespace
} // namespace twofold::xenbus
