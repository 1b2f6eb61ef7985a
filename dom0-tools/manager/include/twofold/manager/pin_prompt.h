#pragma once
// dom0's PIN prompt, as the manager keeps it: the digits typed (in a fixed buffer, cleansed
// whenever it is emptied and on destruction), what the screen shows (a dot per digit and a
// status line), and a bound on the keys a backend can feed it. Pure: fed keys and keystore
// outcomes, it answers with what to do; the manager does the I/O (docs/manager.md, "The PIN
// prompt"). Nothing here logs a key.
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "twofold/focus/focus_protocol.h"

namespace twofold::manager {

class PinPrompt {
public:
    using Clock = std::chrono::steady_clock;
    // The keystore takes up to 256 bytes; a PIN typed on a phone is short. More digits are
    // ignored (the dots stop), so a stuck key cannot grow anything.
    static constexpr std::size_t kMaxDigits = 16;
    static constexpr std::size_t kMinDigits = 4;
    // A person types a few keys a second; a backend that sends more in one second is refused
    // the rest (counted; the manager reports it without the keys).
    static constexpr std::uint32_t kMaxKeysPerSecond = 20;

    enum class Action : std::uint8_t {
        None,   // nothing changed (a key over the bound, or while the PIN is being checked)
        Redraw, // the dots or the message changed
        Submit, // Enter with enough digits: take_pin() and run the keystore's unlock
        Cancel, // Escape: leave the prompt
    };

    PinPrompt() = default;
    ~PinPrompt();
    PinPrompt(const PinPrompt&) = delete;
    PinPrompt& operator=(const PinPrompt&) = delete;

    // Opens (or reopens) the prompt for `persona`, empty; `message` is its first status line.
    void open(std::string persona, std::string message = {});
    // Closes it: the digits are cleansed.
    void close() noexcept;
    [[nodiscard]] bool open() const noexcept { return persona_.has_value(); }
    [[nodiscard]] const std::optional<std::string>& persona() const noexcept { return persona_; }
    [[nodiscard]] bool checking() const noexcept { return checking_; }

    Action key(focus::PromptKey key, Clock::time_point now);
    // The digits, for the keystore (the caller cleanses its copy); the prompt's own are
    // cleansed and it waits for the outcome (checking()).
    [[nodiscard]] std::string take_pin();
    // The keystore's outcome of the PIN taken: the status line says it, and digits may be
    // typed again. `attempts_left` as the keystore reported it, if it did.
    void outcome(const std::string& outcome, std::optional<std::int64_t> attempts_left);

    [[nodiscard]] focus::PromptView view() const;
    [[nodiscard]] std::uint64_t keys_refused() const noexcept { return keys_refused_; }

    // The status line for a keystore outcome (exposed for the tests and docs).
    [[nodiscard]] static std::string message_for(const std::string& outcome, std::optional<std::int64_t> attempts_left);

private:
    void clear_digits() noexcept;

    std::optional<std::string> persona_;
    std::array<char, kMaxDigits> digits_{};
    std::size_t count_ = 0;
    std::string message_;
    bool checking_ = false;
    Clock::time_point window_start_{};
    std::uint32_t window_keys_ = 0;
    std::uint64_t keys_refused_ = 0;
};

} // namespace twofold::manager
