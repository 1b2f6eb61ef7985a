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
// The PIN prompt (docs/manager.md, "The PIN prompt"): dom0 holds the screen and the keys.
//   manager -> backend  {"type":"focus","persona":"secure","epoch":9,"prompt":{"dots":0,"message":""}}
//                       display: show secure's indicator over dom0's prompt, no guest pixel;
//                       input: every key goes to the manager (prompt-key), none to a guest
//   manager -> display  {"type":"prompt","epoch":9,"dots":3,"message":"WRONG PIN - 3 TRIES LEFT"}
//                       (redraws the prompt of focus order 9; no answer)
//   input -> manager    {"type":"prompt-key","key":"7"}   (0-9, backspace, enter, cancel)
//
// A persona's content-free notice (docs/messaging.md, "Notice without leaks"):
//   manager -> display  {"type":"notice","persona":"secure","mark":true}
//                       (the strip shows "SECURE: NEW MESSAGE" beside the foreground's
//                       indicator until the manager sends mark false; no answer)
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
// The prompt's line of text (the display's font: A-Z, 0-9, space and " -.:") and its dots.
inline constexpr std::size_t kMaxPromptMessageBytes = 40;
inline constexpr std::uint32_t kMaxPromptDots = 32;

// What a backend can hold: the parts of the device whose focus follows the foreground.
enum class Holder : std::uint8_t { Display, Input, ModemAudio };
[[nodiscard]] const char* to_string(Holder holder) noexcept;

struct Hello {
    std::string backend; // a name such as "display", [a-z][a-z0-9-]*
    std::vector<Holder> holds;
};
// What dom0's PIN prompt shows: one dot per digit typed, and a status line ("" for none).
struct PromptView {
    std::uint32_t dots = 0;
    std::string message;
    friend bool operator==(const PromptView&, const PromptView&) = default;
};
struct Focus {
    Focus() = default;
    // Most orders carry no prompt; Focus{persona, epoch} stays the way to write them.
    Focus(std::optional<std::string> to, std::uint64_t order_epoch, std::optional<PromptView> with_prompt = std::nullopt)
        : persona(std::move(to)), epoch(order_epoch), prompt(std::move(with_prompt)) {}
    // nullopt: focus goes to nobody. The manager sends it to the input backend in the first
    // phase of a switch (before the display presents the new persona); a backend for which
    // "nobody" means nothing refuses it.
    std::optional<std::string> persona;
    std::uint64_t epoch = 0;
    // Set: dom0's PIN prompt for `persona` (which must be set) holds the screen and the keys.
    std::optional<PromptView> prompt;
};
// A redraw of the prompt shown for the focus order of `epoch`; a backend not showing that
// prompt ignores it. No answer: the dots are not a switch.
struct PromptUpdate {
    std::uint64_t epoch = 0;
    PromptView view;
};
// One key pressed while the input backend routes to the prompt. Only these keys exist on the
// link: the input backend drops every other key (and every release) in prompt mode.
enum class PromptKey : std::uint8_t { D0, D1, D2, D3, D4, D5, D6, D7, D8, D9, Backspace, Enter, Cancel };
struct PromptKeyPress {
    PromptKey key = PromptKey::D0;
};
[[nodiscard]] const char* to_string(PromptKey key) noexcept;
[[nodiscard]] bool is_digit(PromptKey key) noexcept;
[[nodiscard]] char digit_of(PromptKey key) noexcept; // '0'..'9'; only for is_digit keys
// The message a prompt may show: at most kMaxPromptMessageBytes of the display's font.
[[nodiscard]] bool is_valid_prompt_message(std::string_view text) noexcept;
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

// A background persona has something new (its guest says no more than that): the display
// marks the strip while `mark` is true. No answer: a mark is not a switch.
struct Notice {
    std::string persona;
    bool mark = false;
    friend bool operator==(const Notice&, const Notice&) = default;
};

using ToBackend = std::variant<Focus, PromptUpdate, Notice>;
using ToManager = std::variant<Hello, Ack, Refuse, AuditEvent, PromptKeyPress>;

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
