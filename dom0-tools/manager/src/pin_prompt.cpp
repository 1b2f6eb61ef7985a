#include "twofold/manager/pin_prompt.h"

#include <openssl/crypto.h>

namespace twofold::manager {

PinPrompt::~PinPrompt() { clear_digits(); }

void PinPrompt::clear_digits() noexcept {
    OPENSSL_cleanse(digits_.data(), digits_.size());
    count_ = 0;
}

void PinPrompt::open(std::string persona, std::string message) {
    clear_digits();
    persona_ = std::move(persona);
    message_ = focus::is_valid_prompt_message(message) ? std::move(message) : std::string();
    checking_ = false;
}

void PinPrompt::close() noexcept {
    clear_digits();
    persona_.reset();
    message_.clear();
    checking_ = false;
}

PinPrompt::Action PinPrompt::key(focus::PromptKey key, Clock::time_point now) {
    if (!persona_) return Action::None;
    if (now - window_start_ >= std::chrono::seconds(1)) {
        window_start_ = now;
        window_keys_ = 0;
    }
    if (++window_keys_ > kMaxKeysPerSecond) {
        ++keys_refused_;
        return Action::None;
    }
    if (key == focus::PromptKey::Cancel) return Action::Cancel;
    if (checking_) return Action::None; // the keystore has the PIN; nothing to edit meanwhile
    if (focus::is_digit(key)) {
        if (count_ == kMaxDigits) return Action::None;
        digits_[count_++] = focus::digit_of(key);
        message_.clear();
        return Action::Redraw;
    }
    if (key == focus::PromptKey::Backspace) {
        if (count_ == 0) return Action::None;
        digits_[--count_] = '\0';
        return Action::Redraw;
    }
    // Enter.
    if (count_ < kMinDigits) {
        message_ = "PIN TOO SHORT";
        return Action::Redraw;
    }
    checking_ = true;
    message_ = "CHECKING";
    return Action::Submit;
}

std::string PinPrompt::take_pin() {
    std::string pin(digits_.data(), count_);
    clear_digits();
    return pin;
}

void PinPrompt::outcome(const std::string& outcome, std::optional<std::int64_t> attempts_left) {
    checking_ = false;
    clear_digits();
    message_ = message_for(outcome, attempts_left);
}

std::string PinPrompt::message_for(const std::string& outcome, std::optional<std::int64_t> attempts_left) {
    const auto tries = [&] {
        const std::int64_t n = attempts_left.value_or(-1);
        if (n < 0 || n > 99) return std::string();
        return " - " + std::to_string(n) + (n == 1 ? " TRY LEFT" : " TRIES LEFT");
    };
    if (outcome == "ok") return "UNLOCKED";
    if (outcome == "wrong-pin") return "WRONG PIN" + tries();
    if (outcome == "locked-out") return "LOCKED OUT" + tries();
    if (outcome == "wiped") return "WIPED: DATA ERASED";
    if (outcome == "measurements-changed") return "LOCKED: MEASUREMENTS CHANGED";
    if (outcome == "busy") return "BUSY - TRY AGAIN";
    return "ERROR - SEE TWOFOLD STATUS";
}

focus::PromptView PinPrompt::view() const {
    return focus::PromptView{static_cast<std::uint32_t>(count_), message_};
}

} // namespace twofold::manager
