#pragma once
// The wire between a confined backend and its xenstore proxy in twofold-manager (issue 14,
// item 2): the backend asks, the manager answers and relays watch events. Both ends parse what
// the other sends into validated values before acting: the manager's side takes requests from
// a backend that may be taken over, the backend's side takes replies and events.
//
// A frame is a 32-bit little-endian body length (1..kMaxWireFrame) and the body:
//   u8 kind, u32 id (little-endian), then the kind's fields, each a u16 length and its bytes
//   (a name list is a u16 count of such fields). Nothing may follow the last field.
// Requests (backend -> manager), each answered by one reply with the same id:
//   Read path | Write path value | Mkdir path | Remove path | List path |
//   Watch path token | Unwatch path token | GetPermissions path
// Replies (manager -> backend): Ok | Value value | Missing | Names names | Failed errno |
// Permissions perms (a u16 count, 1..kMaxPermissions, of: u16 domid, u8 kind 0..3 = none,
// read, write, both; the owner first, as xenstored lists them); and Event path token (id 0),
// at any time, for a watch the backend registered.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "twofold/xen/xenstore.h"
#include "twofold/xenbus/result.h"

namespace twofold::xenbus::wire {

// xenstored's own bounds (xs_wire.h: XENSTORE_PAYLOAD_MAX, XENSTORE_ABS_PATH_MAX), so a value
// or path xenstored accepts always fits.
inline constexpr std::size_t kMaxValue = 4096;
inline constexpr std::size_t kMaxPath = 3072;
// Tokens are the backend's own counters ("twofold-<n>"): short, plain.
inline constexpr std::size_t kMaxToken = 64;
// A directory a backend may list (its own device entries, a frontend's nodes) holds a few
// names; a listing longer than this is refused by the proxy (E2BIG), not truncated.
inline constexpr std::size_t kMaxNames = 256;
inline constexpr std::size_t kMaxName = 256;
// A node's permission list: the owner and the few domains it is shared with (xenstored's own
// bound is the 4096-byte payload, ~600 entries); a longer list is refused (E2BIG), not cut.
inline constexpr std::size_t kMaxPermissions = 256;
// Header + the largest field set (a Write: path and value; a Names reply of kMaxNames short
// names is refused by the proxy before it could exceed this).
inline constexpr std::size_t kMaxWireFrame = 1 + 4 + 2 + kMaxPath + 2 + kMaxValue;
inline constexpr std::size_t kFrameHeader = 4;

enum class RequestKind : std::uint8_t { Read = 1, Write, Mkdir, Remove, List, Watch, Unwatch, GetPermissions };
// Permissions came after Event: the earlier kinds keep their numbers.
enum class ReplyKind : std::uint8_t { Ok = 0x81, Value, Missing, Names, Failed, Event, Permissions };

struct Request {
    RequestKind kind{};
    std::uint32_t id = 0;
    std::string path;
    std::string value; // Write only
    std::string token; // Watch, Unwatch only
};

struct Reply {
    ReplyKind kind{};
    std::uint32_t id = 0;               // 0 for an Event
    std::string value;                  // Value
    std::vector<std::string> names;     // Names
    int error = 0;                      // Failed: an errno in 1..4095
    std::string path;                   // Event
    std::string token;                  // Event
    std::vector<xen::Permission> permissions; // Permissions: 1..kMaxPermissions entries
};

// The body parsers (no length header). Errors say what was wrong, never echo the bytes.
[[nodiscard]] Result<Request> parse_request(std::span<const std::byte> body);
[[nodiscard]] Result<Reply> parse_reply(std::span<const std::byte> body);

// Whole frames (header and body). Throw std::invalid_argument for a value that the parser on
// the other side would refuse (our own programming error, never a peer's input).
[[nodiscard]] std::string encode(const Request& request);
[[nodiscard]] std::string encode(const Reply& reply);

// Cuts a byte stream into frame bodies. A header announcing 0 or more than kMaxWireFrame bytes
// breaks the stream for good (the reader cannot resynchronise): error() says so.
class FrameReader {
public:
    void feed(std::span<const std::byte> bytes);
    // The next complete body, if one is buffered.
    [[nodiscard]] std::optional<std::vector<std::byte>> next();
    [[nodiscard]] bool broken() const noexcept { return broken_; }
    [[nodiscard]] std::size_t buffered() const noexcept { return buffer_.size(); }

private:
    std::vector<std::byte> buffer_;
    bool broken_ = false;
};

// xenstored's path rules: absolute, no "//", no trailing '/', charset [A-Za-z0-9-/_@]; or a
// special watch path (@releaseDomain, @introduceDomain).
[[nodiscard]] bool valid_path(std::string_view path) noexcept;
[[nodiscard]] bool valid_token(std::string_view token) noexcept;

} // namespace twofold::xenbus::wire
