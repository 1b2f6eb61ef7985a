#pragma once
// The manager's control protocol: one JSON object per line over a Unix socket.
//   request:  {"version":1,"id":7,"command":"switch","args":{"persona":"secure"}}
//   response: {"version":1,"id":7,"ok":true,"result":{...}}
//             {"version":1,"id":7,"ok":false,"error":{"code":"unknown-persona","message":"..."}}
// Requests are parsed into a typed value before anything acts on them; anything else gets an
// error response that says what was wrong.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include <nlohmann/json.hpp>

namespace twofold::manager::control {

inline constexpr int kProtocolVersion = 1;
// A request line longer than this is refused without being parsed: the socket is local and
// root-only, but a stuck or buggy client must not make the manager buffer without bound.
inline constexpr std::size_t kMaxRequestBytes = 64 * 1024;

struct StatusRequest {};
struct SwitchRequest {
    std::optional<std::string> persona; // none: toggle
};
enum class LifecycleAction : std::uint8_t { Start, Stop, Restart };
struct LifecycleRequest {
    LifecycleAction action{};
    std::string persona;
};
// Stops the personas gracefully, stops the backends, seals the audit log, then runs the
// manager's configured power-off command and exits.
struct ShutdownRequest {};
// The secure persona's sealed volume (twofold-keystore). PINs travel only on this root-only
// local socket and only in these requests; the manager never logs or audits them.
enum class VolumeAction : std::uint8_t { Status, Unlock, Lock, ChangePin, Wipe };
inline constexpr std::size_t kMaxPinBytes = 256;
struct VolumeRequest {
    VolumeAction action{};
    std::string persona;
    std::string pin;     // Unlock, ChangePin (the current PIN)
    std::string new_pin; // ChangePin
};
using Command = std::variant<StatusRequest, SwitchRequest, LifecycleRequest, ShutdownRequest, VolumeRequest>;

struct Request {
    std::int64_t id = 0;
    Command command;
};

struct ProtocolError {
    std::string code; // stable, machine-readable: bad-json, bad-version, bad-request, unknown-command ...
    std::string message;
    std::optional<std::int64_t> id; // echoed when the request had a readable id
};

// Parses one request line.
std::variant<Request, ProtocolError> parse_request(std::string_view line);

// Persona names travel in requests: they must look like names the policy can contain.
[[nodiscard]] bool is_valid_persona_name(std::string_view name) noexcept;

std::string make_ok_response(std::int64_t id, const nlohmann::json& result);
std::string make_error_response(const ProtocolError& error);
std::string make_request(std::int64_t id, const Command& command);

[[nodiscard]] const char* to_string(LifecycleAction action) noexcept;
[[nodiscard]] const char* to_string(VolumeAction action) noexcept;

} // namespace twofold::manager::control
