#include "twofold/input/held_input.h"

#include <type_traits>

namespace twofold::input {

void HeldInput::record(const GuestEvent& delivered) {
    std::visit(
        [this](const auto& event) {
            using T = std::decay_t<decltype(event)>;
            if constexpr (std::is_same_v<T, KeyEvent>) {
                if (event.pressed) {
                    keys_.insert(event.code);
                } else {
                    keys_.erase(event.code);
                }
            } else if constexpr (std::is_same_v<T, TouchEvent>) {
                if (event.phase == TouchPhase::Down) contacts_.set(event.contact);
                if (event.phase == TouchPhase::Up) contacts_.reset(event.contact);
            }
        },
        delivered);
}

std::vector<GuestEvent> HeldInput::take_releases() {
    std::vector<GuestEvent> releases;
    for (const std::uint32_t code : keys_) releases.emplace_back(KeyEvent{code, false});
    if (contacts_.any()) {
        for (std::size_t contact = 0; contact < contacts_.size(); ++contact) {
            if (contacts_.test(contact)) {
                releases.emplace_back(TouchEvent{TouchPhase::Up, static_cast<std::uint8_t>(contact), 0, 0});
            }
        }
        releases.emplace_back(TouchEvent{TouchPhase::Frame, 0, 0, 0});
    }
    clear();
    return releases;
}

void HeldInput::clear() noexcept {
    keys_.clear();
    contacts_.reset();
}

} // namespace twofold::input
