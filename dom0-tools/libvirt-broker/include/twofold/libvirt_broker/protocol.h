#pragma once
// The line protocol between twofold-manager and twofold-libvirt-broker: one JSON object per
// line, one request in flight at a time.
//   request  {"v":1,"id":7,"op":"lookup","name":"secure"}     (define: "xml" instead of "name")
//   reply    {"v":1,"id":7,"result":...}
//         or {"v":1,"id":7,"error":{"kind":"no-domain"|"libvirt"|"request","message":"..."}}
// Trust runs one way: the broker parses libvirtd's data, so the manager treats every reply as
// hostile and turns it into validated values (parse_reply); the broker still checks requests
// (parse_request), since a bug in the manager must not become an arbitrary libvirt call.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "twofold/manager/domain_control.h"

namespace twofold::libvirt_broker {

inline constexpr int kVersion = 1;
// One line, newline excluded, either way. A domain XML is a few KiB; 1 MiB leaves room for any
// definition while bounding what either side buffers.
inline constexpr std::size_t kMaxLineBytes = std::size_t{1} << 20;
inline constexpr std::size_t kMaxNameBytes = 256;      // domain names in requests and replies
inline constexpr std::size_t kMaxMessageBytes = 4096;  // error texts
inline constexpr std::size_t kMaxDomains = 1024;       // entries in a list reply
inline constexpr int kMaxDomid = 0x7FEF;               // below Xen's DOMID_FIRST_RESERVED
// JSON's exact integers: an id above this could not round-trip through a double-based peer.
inline constexpr std::uint64_t kMaxId = (std::uint64_t{1} << 53) - 1;

enum class Op { List, Lookup, Define, Start, StartPaused, Resume, Shutdown, Destroy, Undefine, Xml, Uuid };

[[nodiscard]] const char* to_string(Op op) noexcept;
[[nodiscard]] std::optional<Op> parse_op(std::string_view text) noexcept;

struct Request {
    std::uint64_t id = 0;
    Op op = Op::List;
    std::string arg; // the domain name, the XML for Define, empty for List
};

enum class ErrorKind { NoDomain, Libvirt, Request };
[[nodiscard]] const char* to_string(ErrorKind kind) noexcept;

struct ReplyError {
    ErrorKind kind = ErrorKind::Request;
    std::string message;
};

// What a successful reply carries, per op: List a vector, Lookup/Define one DomainInfo,
// Xml/Uuid a string, the rest nothing.
using Result = std::variant<std::monostate, manager::DomainInfo, std::vector<manager::DomainInfo>, std::string>;

// --- manager side ---------------------------------------------------------------------------
// One line, without the newline.
[[nodiscard]] std::string encode_request(const Request& request);

// A reply line that breaks the protocol (not JSON, wrong version or id, a value out of range,
// the wrong shape for the op): the broker can no longer be trusted to be in step.
class ProtocolError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// Validates `untrusted_line` as the reply to `sent`: the id matches, a domain's name is the
// one asked for (lookup), states come from the fixed set, domids are in range, a UUID looks
// like one. Error messages have control characters replaced. Throws ProtocolError.
[[nodiscard]] std::variant<Result, ReplyError> parse_reply(const Request& sent, std::string_view untrusted_line);

// --- broker side ----------------------------------------------------------------------------
struct RequestProblem {
    std::optional<std::uint64_t> id; // when the line had a usable one, the reply echoes it
    std::string message;
};
[[nodiscard]] std::variant<Request, RequestProblem> parse_request(std::string_view untrusted_line);

[[nodiscard]] std::string encode_result(std::uint64_t id, const Result& result);
[[nodiscard]] std::string encode_error(std::optional<std::uint64_t> id, const ReplyError& error);

// A domain or error text as the protocol carries it: at most `limit` bytes, no control
// characters (it ends up in logs and the audit trail).
[[nodiscard]] std::string sanitize_text(std::string_view text, std::size_t limit);

} // namespace twofold::libvirt_broker
