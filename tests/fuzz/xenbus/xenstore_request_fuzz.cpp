// Fuzzes the manager's side of the xenstore proxy: frames from a backend that may be taken
// over, cut by FrameReader and parsed by parse_request. Beyond "does not crash": an accepted
// request has a canonical path, a bounded value and a valid token where its kind has one (a
// special path only in a watch: never read, nor its permissions), and
// encodes back to the very body it was parsed from (nothing is lost or invented).
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

void check(std::span<const std::byte> body) {
    const auto parsed = parse_request(body);
    if (!parsed) return;
    const Request& request = parsed.value();
    require(valid_path(request.path) && request.path.size() <= kMaxPath);
    require(request.value.size() <= kMaxValue);
    const bool watching = request.kind == RequestKind::Watch || request.kind == RequestKind::Unwatch;
    require(watching == !request.token.empty());
    require(watching || request.path.front() == '/');
    const std::string frame = encode(request);
    require(frame.size() == kFrameHeader + body.size());
    require(std::memcmp(frame.data() + kFrameHeader, body.data(), body.size()) == 0);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::span<const std::byte> bytes(reinterpret_cast<const std::byte*>(data), size);
    check(bytes); // the input as one body
    FrameReader reader; // and as a stream of frames
    reader.feed(bytes);
    while (auto body = reader.next()) {
        require(!body->empty() && body->size() <= kMaxWireFrame);
        check(*body);
    }
    return 0;
}
