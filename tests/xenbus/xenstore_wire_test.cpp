// The xenstore proxy's wire (xenstore_wire.h): what each side's parser accepts and refuses.
// Both parsers take bytes from a peer that may be hostile (a taken-over backend for the
// manager's side); every test names one rule.
#include <gtest/gtest.h>

#include <cstring>
#include <stdexcept>
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
    Reply names{ReplyKind::Names, 4, {}, {"0", "1"}, 0, {}, {}, {}};
    const auto parsed = parse_reply(body_of(encode(names)));
    ASSERT_TRUE(parsed.ok()) << parsed.error().message;
    EXPECT_EQ(parsed.value().names, (std::vector<std::string>{"0", "1"}));
}

TEST(XenstoreWire, NameWithSlashIsRefused) {
    EXPECT_FALSE(parse_reply(bytes({0x84, 1, 0, 0, 0, 1, 0, 3, 0, 'a', '/', 'b'})).ok());
}

TEST(XenstoreWire, FailedReplyCarriesErrno) {
    const auto parsed = parse_reply(body_of(encode(Reply{ReplyKind::Failed, 2, {}, {}, 13, {}, {}, {}})));
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

TEST(XenstoreWire, GetPermissionsRequestRoundTrips) {
    const auto parsed =
        parse_request(body_of(encode(Request{RequestKind::GetPermissions, 9, "/local/domain/3/device/vkbd/0", {}, {}})));
    ASSERT_TRUE(parsed.ok()) << parsed.error().message;
    EXPECT_EQ(parsed.value().kind, RequestKind::GetPermissions);
    EXPECT_EQ(parsed.value().path, "/local/domain/3/device/vkbd/0");
    EXPECT_TRUE(parsed.value().token.empty());
}

TEST(XenstoreWire, GetPermissionsOfASpecialPathIsRefused) {
    // kind 8 (GetPermissions), id 1, path "@releaseDomain"
    auto body = bytes({0x08, 1, 0, 0, 0, 14, 0});
    for (const char c : std::string("@releaseDomain")) body.push_back(static_cast<std::byte>(c));
    EXPECT_FALSE(parse_request(body).ok());
}

Reply permissions_reply() {
    Reply reply;
    reply.kind = ReplyKind::Permissions;
    reply.id = 3;
    reply.permissions = {{3, xen::Permission::Kind::None}, {0, xen::Permission::Kind::Read},
                         {0x7FEF, xen::Permission::Kind::ReadWrite}, {5, xen::Permission::Kind::Write}};
    return reply;
}

TEST(XenstoreWire, PermissionsReplyRoundTripsOwnerFirst) {
    const auto parsed = parse_reply(body_of(encode(permissions_reply())));
    ASSERT_TRUE(parsed.ok()) << parsed.error().message;
    const auto& got = parsed.value().permissions;
    ASSERT_EQ(got.size(), 4U);
    EXPECT_EQ(got[0].domid, 3);
    EXPECT_EQ(got[0].kind, xen::Permission::Kind::None);
    EXPECT_EQ(got[1].kind, xen::Permission::Kind::Read);
    EXPECT_EQ(got[2].domid, 0x7FEF);
    EXPECT_EQ(got[2].kind, xen::Permission::Kind::ReadWrite);
    EXPECT_EQ(got[3].kind, xen::Permission::Kind::Write);
}

TEST(XenstoreWire, PermissionOfUnknownKindIsRefused) {
    EXPECT_FALSE(parse_reply(bytes({0x87, 1, 0, 0, 0, 1, 0, 3, 0, 4})).ok());
}

TEST(XenstoreWire, EmptyPermissionListIsRefused) {
    // xenstored always names an owner: a list without one is not a node's permissions.
    EXPECT_FALSE(parse_reply(bytes({0x87, 1, 0, 0, 0, 0, 0})).ok());
}

TEST(XenstoreWire, PermissionCountBeyondItsEntriesIsRefused) {
    EXPECT_FALSE(parse_reply(bytes({0x87, 1, 0, 0, 0, 2, 0, 3, 0, 0})).ok());
}

TEST(XenstoreWire, PermissionCountOverTheLimitIsRefused) {
    auto body = bytes({0x87, 1, 0, 0, 0});
    const auto count = static_cast<unsigned>(kMaxPermissions + 1);
    body.push_back(static_cast<std::byte>(count & 0xFF));
    body.push_back(static_cast<std::byte>(count >> 8));
    for (unsigned i = 0; i < count; ++i) {
        body.insert(body.end(), {std::byte{1}, std::byte{0}, std::byte{1}});
    }
    EXPECT_FALSE(parse_reply(body).ok());
}

TEST(XenstoreWire, EncodingAnEmptyPermissionListIsAProgrammingError) {
    Reply reply = permissions_reply();
    reply.permissions.clear();
    EXPECT_THROW((void)encode(reply), std::invalid_argument);
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
