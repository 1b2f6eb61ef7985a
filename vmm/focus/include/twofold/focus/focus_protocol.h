#pragma once
// The focus link between twofold-manager and a backend process it started. One JSON object
// per line over a socketpair the manager creates (the backend finds its end with
// --focus-fd N). The manager is the only control plane: a backend never decides the
// foreground, it is told and answers.
//
//   backend -> manager  {"type":"hello","version":1,"backend":"display","holds":["display"]}
//   manager -> backend  {"type":"focus","persona":"secure","epoch":7}
//   manager -> backend  {"type":"focus","persona":null,"epoch":8}      (input: route to nobody)
//   backend -> manager  {"type":"ack","epoch":7}
//   backend -> manager  {"type":"refuse","epoch":7,"reason":"no frame from secure yet"}
//   backend -> manager  {"type":"audit","event":"modem.dial","fields":{"persona":"secure",...}}
//
// Both sides parse every line into one of the typed values below before acting on it; a
// line that is not one of them is an error with a message, never an exception.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

namespace twofold::focus {

inline constexpr int kProtocolVersion = 1;
// Longer lines are refused unparsed (the peer is a dom0 process, but a buggy one must not make
// the other side buffer without bound).
inline constexpr std::size_t kMaxLineBytes = 16 * 1024;
inline constexpr std::size_t kMaxNameBytes = 32;
inline constexpr std::size_t kMaxReasonBytes = 256;
inline constexpr std::size_t kMaxAuditFields = 16;

// What a backend can hold: the parts of the device whose focus follows the foreground.
enum class Holder : std::uint8_t { Display, Input, ModemAudio };
[[nodiscard]] const char* to_string(Holder holder) noexcept;

struct Hello {
    std::string backend; // a name such as "display", [a-z][a-z0-9-]*
    std::vector<Holder> holds;
};
struct Focus {
    // nullopt: focus goes to nobody. The manager sends it to the input backend in the first
    // phase of a switch (before the display presents the new persona); a backend for which
    // "nobody" means nothing refuses it.
    std::optional<std::string> persona;
    std::uint64_t epoch = 0;
};
struct Ack {
    std::uint64_t epoch = 0;
};
struct Refuse {
    std::uint64_t epoch = 0;
    std::string reason;
};
// An event for the manager's audit log. The manager decides whether to record it (it only
// accepts events under the backend's own name prefix, e.g. "modem." from the modem backend).
struct AuditEvent {
    std::string event;  // dotted name, e.g. "modem.dial"
    nlohmann::json fields; // an object of at most kMaxAuditFields scalar values
};

using ToBackend = std::variant<Focus>;
using ToManager = std::variant<Hello, Ack, Refuse, AuditEvent>;

struct ParseError {
    std::string message;
};

template <class T>
using Parsed = std::variant<T, ParseError>;

[[nodiscard]] Parsed<ToBackend> parse_to_backend(std::string_view line);
[[nodiscard]] Parsed<ToManager> parse_to_manager(std::string_view line);

// Each returns one line, without the trailing newline.
[[nodiscard]] std::string format(const ToBackend& message);
[[nodiscard]] std::string format(const ToManager& message);

// Names (backends, personas, audit events) travel on the link: they must look like names.
[[nodiscard]] bool is_valid_name(std::string_view name) noexcept;
[[nodiscard]] bool is_valid_event_name(std::string_view name) noexcept;

} // namespace twofold::focus
