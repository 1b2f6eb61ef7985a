// The xenstore proxy's wire (xenstore_wire.h): what each side's parser accepts and refuses.
// Both parsers take bytes from a peer that may be hostile (a taken-over backend for the
// manager's side); every test names one rule.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "twofold/xenbus/xenstore_wire.h"

namespace twofold::xenbus::wire {
namespace {

std::vector<std::byte> body_of(const std::string& frame) {
    std::vector<std::byte> body(frame.size() - kFrameHeader);
    std::memcpy(body.data(), frame.data() + kFrameHeader, body.size());
    return body;
}

std::vector<std::byte> bytes(std::initializer_list<unsigned> values) {
    std::vector<std::byte> out;
    for (const unsigned v : values) out.push_back(static_cast<std::byte>(v));
    return out;
}

Request write_request() { return Request{RequestKind::Write, 7, "/local/domain/0/backend/vkbd/3/0/state", "4", {}}; }

TEST(XenstoreWire, WriteRequestRoundTrips) {
    const auto parsed = parse_request(body_of(encode(write_request())));
    ASSERT_TRUE(parsed.ok()) << parsed.error().message;
    EXPECT_EQ(parsed.value().kind, RequestKind::Write);
    EXPECT_EQ(parsed.value().id, 7U);
    EXPECT_EQ(parsed.value().path, "/local/domain/0/backend/vkbd/3/0/state");
    EXPECT_EQ(parsed.value().value, "4");
}

TEST(XenstoreWire, WatchRequestCarriesItsToken) {
    const auto parsed = parse_request(body_of(encode(Request{RequestKind::Watch, 1, "@releaseDomain", {}, "twofold-3"})));
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(parsed.value().token, "twofold-3");
}

TEST(XenstoreWire, RequestWithTrailingBytesIsRefused) {
    auto body = body_of(encode(write_request()));
    body.push_back(std::byte{0});
    EXPECT_FALSE(parse_request(body).ok());
}

TEST(XenstoreWire, TruncatedRequestIsRefused) {
    auto body = body_of(encode(write_request()));
    body.pop_back();
    EXPECT_FALSE(parse_request(body).ok());
}

TEST(XenstoreWire, UnknownRequestKindIsRefused) {
    EXPECT_FALSE(parse_request(bytes({0x09, 1, 0, 0, 0, 1, 0, '/'})).ok());
}

TEST(XenstoreWire, RelativePathIsRefused) {
    EXPECT_FALSE(parse_request(bytes({0x01, 1, 0, 0, 0, 4, 0, 'n', 'a', 'm', 'e'})).ok());
}

TEST(XenstoreWire, PathWithDoubleSlashIsRefused) {
    EXPECT_FALSE(parse_request(bytes({0x01, 1, 0, 0, 0, 4, 0, '/', 'a', '/', '/'})).ok());
}

TEST(XenstoreWire, SpecialPathIsOnlyWatched) {
    auto body = body_of(encode(Request{RequestKind::Watch, 1, "@releaseDomain", {}, "t"}));
    body[0] = std::byte{static_cast<std::uint8_t>(RequestKind::Read)};
    body.resize(body.size() - 3); // drop the token field
    EXPECT_FALSE(parse_request(body).ok());
}

TEST(XenstoreWire, TokenOutsideItsCharsetIsRefused) {
    EXPECT_FALSE(parse_request(bytes({0x06, 1, 0, 0, 0, 1, 0, '/', 2, 0, 'a', ' '})).ok());
}

TEST(XenstoreWire, OversizedValueLengthIsRefused) {
    // A write whose value field claims 4097 bytes (one over XENSTORE_PAYLOAD_MAX).
    auto body = bytes({0x02, 1, 0, 0, 0, 1, 0, '/', 0x01, 0x10});
    body.resize(body.size() + 4097, std::byte{'a'});
    EXPECT_FALSE(parse_request(body).ok());
}

TEST(XenstoreWire, NamesReplyRoundTrips) {
    Reply names{ReplyKind::Names, 4, {}, {"0", "1"}, 0, {}, {}};
    const auto parsed = parse_reply(body_of(encode(names)));
    ASSERT_TRUE(parsed.ok()) << parsed.error().message;
    EXPECT_EQ(parsed.value().names, (std::vector<std::string>{"0", "1"}));
}

TEST(XenstoreWire, NameWithSlashIsRefused) {
    EXPECT_FALSE(parse_reply(bytes({0x84, 1, 0, 0, 0, 1, 0, 3, 0, 'a', '/', 'b'})).ok());
}

TEST(XenstoreWire, FailedReplyCarriesErrno) {
    const auto parsed = parse_reply(body_of(encode(Reply{ReplyKind::Failed, 2, {}, {}, 13, {}, {}})));
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(parsed.value().error, 13);
}

TEST(XenstoreWire, FailedReplyWithErrnoZeroIsRefused) {
    EXPECT_FALSE(parse_reply(bytes({0x85, 1, 0, 0, 0, 0, 0, 0, 0})).ok());
}

TEST(XenstoreWire, EventWithNonZeroIdIsRefused) {
    EXPECT_FALSE(parse_reply(bytes({0x86, 1, 0, 0, 0, 1, 0, '/', 1, 0, 't'})).ok());
}

TEST(XenstoreWire, ReplyWithIdZeroIsRefused) {
    EXPECT_FALSE(parse_reply(bytes({0x81, 0, 0, 0, 0})).ok());
}

TEST(XenstoreWire, FrameReaderCutsFramesAcrossFeeds) {
    const std::string frame = encode(write_request());
    FrameReader reader;
    const auto* data = reinterpret_cast<const std::byte*>(frame.data());
    reader.feed({data, 3});
    EXPECT_FALSE(reader.next().has_value());
    reader.feed({data + 3, frame.size() - 3});
    const auto body = reader.next();
    ASSERT_TRUE(body.has_value());
    EXPECT_TRUE(parse_request(*body).ok());
}

TEST(XenstoreWire, FrameReaderBreaksOnAnOversizedLength) {
    FrameReader reader;
    reader.feed(bytes({0xFF, 0xFF, 0, 0}));
    EXPECT_FALSE(reader.next().has_value());
    EXPECT_TRUE(reader.broken());
}

TEST(XenstoreWire, FrameReaderBreaksOnAZeroLength) {
    FrameReader reader;
    reader.feed(bytes({0, 0, 0, 0}));
    EXPECT_FALSE(reader.next().has_value());
    EXPECT_TRUE(reader.broken());
}

} // namespace
} // namespace twofold::xenbus::wire
