// Fuzzes the backend's side of the xenstore proxy: replies and watch events as parse_reply
// sees them. Beyond "does not crash": an accepted reply has its kind's fields in range (names
// are single node names, an errno is 1..4095, an event has id 0 and a canonical path, a
// permission list is 1..kMaxPermissions entries and only in a Permissions reply) and
// encodes back to the very body it was parsed from.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <span>

#include "twofold/xenbus/xenstore_wire.h"

namespace {

using namespace twofold::xenbus::wire;

void require(bool condition) {
    if (!condition) std::abort();
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::span<const std::byte> body(reinterpret_cast<const std::byte*>(data), size);
    const auto parsed = parse_reply(body);
    if (!parsed) return 0;
    const Reply& reply = parsed.value();
    require((reply.kind == ReplyKind::Event) == (reply.id == 0));
    require(reply.names.size() <= kMaxNames && reply.value.size() <= kMaxValue);
    for (const auto& name : reply.names) require(!name.empty() && name.find('/') == std::string::npos);
    if (reply.kind == ReplyKind::Failed) require(reply.error > 0 && reply.error <= 4095);
    if (reply.kind == ReplyKind::Event) require(valid_path(reply.path) && valid_token(reply.token));
    require((reply.kind == ReplyKind::Permissions) == !reply.permissions.empty());
    require(reply.permissions.size() <= kMaxPermissions);
    const std::string frame = encode(reply);
    require(frame.size() == kFrameHeader + body.size());
    require(std::memcmp(frame.data() + kFrameHeader, body.data(), body.size()) == 0);
    return 0;
}
