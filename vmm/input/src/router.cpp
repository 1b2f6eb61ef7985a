#include "twofold/input/router.h"

#include <stdexcept>
#include <type_traits>

namespace twofold::input {

bool RateLimiter::allow(std::chrono::steady_clock::time_point now) noexcept {
    if (last_ && now - *last_ < period_) return false;
    last_ = now;
    return true;
}

std::optional<focus::PromptKey> prompt_key_of(std::uint32_t code) noexcept {
    using focus::PromptKey;
    // linux/input-event-codes.h: KEY_1..KEY_9 = 2..10, KEY_0 = 11, KEY_KP7..9 = 71..73,
    // KEY_KP4..6 = 75..77, KEY_KP1..3 = 79..81, KEY_KP0 = 82.
    if (code >= 2 && code <= 10) return static_cast<PromptKey>(code - 1);
    switch (code) {
    case 11: case 82: return PromptKey::D0;
    case 79: return PromptKey::D1;
    case 80: return PromptKey::D2;
    case 81: return PromptKey::D3;
    case 75: return PromptKey::D4;
    case 76: return PromptKey::D5;
    case 77: return PromptKey::D6;
    case 71: return PromptKey::D7;
    case 72: return PromptKey::D8;
    case 73: return PromptKey::D9;
    case 14: return PromptKey::Backspace;   // KEY_BACKSPACE
    case 28: case 96: return PromptKey::Enter; // KEY_ENTER, KEY_KPENTER
    case 1: return PromptKey::Cancel;       // KEY_ESC
    default: return std::nullopt;
    }
}

InputRouter::InputRouter(std::size_t persona_count, std::uint32_t switch_key, std::shared_ptr<spdlog::logger> log,
                         PromptSink prompt_sink)
    : personas_(persona_count), switch_key_(switch_key), log_(std::move(log)), prompt_sink_(std::move(prompt_sink)) {}

void InputRouter::attach(PersonaId persona, GuestInput& guest) {
    Persona& entry = personas_.at(persona);
    entry.guest = &guest;
    // A new frontend starts with nothing held, whatever its predecessor held.
    entry.held.clear();
    entry.pending_releases.clear();
}

void InputRouter::detach(PersonaId persona, const GuestInput& guest) noexcept {
    if (persona >= personas_.size()) return;
    Persona& entry = personas_[persona];
    if (entry.guest != &guest) return;
    entry.guest = nullptr;
    entry.held.clear();
    entry.pending_releases.clear();
}

bool InputRouter::attached(PersonaId persona) const { return personas_.at(persona).guest != nullptr; }

bool InputRouter::admit(const Persona& persona, const GuestEvent& event, bool& touch_in_frame) {
    return std::visit(
        [&](const auto& e) -> bool {
            using T = std::decay_t<decltype(e)>;
            if constexpr (std::is_same_v<T, KeyEvent>) {
                if (e.code == switch_key_) {
                    ++counters_.dropped_switch_key;
                    return false;
                }
                if (!e.pressed && !persona.held.holds_key(e.code)) {
                    ++counters_.dropped_not_held;
                    return false;
                }
                return true;
            } else if constexpr (std::is_same_v<T, TouchEvent>) {
                switch (e.phase) {
                case TouchPhase::Down:
                    touch_in_frame = true;
                    return true;
                case TouchPhase::Motion:
                case TouchPhase::Up:
                    if (!persona.held.holds_contact(e.contact)) {
                        ++counters_.dropped_not_held;
                        return false;
                    }
                    touch_in_frame = true;
                    return true;
                case TouchPhase::Frame:
                    // A frame closes contacts this guest was given; an empty one means nothing.
                    return std::exchange(touch_in_frame, false);
                }
                return false;
            } else {
                return true;
            }
        },
        event);
}

void InputRouter::note_full() {
    ++counters_.dropped_full;
    if (full_log_.allow(std::chrono::steady_clock::now())) {
        log_->warn("vkbd ring full: dropping input ({} dropped so far)", counters_.dropped_full);
    }
}

void InputRouter::deliver(Persona& persona, const GuestEvent& event) {
    switch (persona.guest->push(event)) {
    case PushResult::Delivered:
        ++counters_.delivered;
        persona.held.record(event);
        return;
    case PushResult::Full:
        note_full();
        return;
    case PushResult::NotWanted:
        ++counters_.dropped_not_wanted;
        return;
    case PushResult::Broken:
        ++counters_.dropped_broken;
        return;
    }
}

void InputRouter::route_to_prompt(std::span<const GuestEvent> events) {
    for (const GuestEvent& event : events) {
        const auto* key = std::get_if<KeyEvent>(&event);
        if (key != nullptr && key->code == switch_key_) {
            ++counters_.dropped_switch_key;
            continue;
        }
        const auto prompt_key = key != nullptr && key->pressed ? prompt_key_of(key->code) : std::nullopt;
        if (!prompt_key || !prompt_sink_) {
            ++counters_.dropped_in_prompt; // releases, other keys, pointer and touch: nobody's
            continue;
        }
        ++counters_.prompt_keys;
        prompt_sink_(*prompt_key);
    }
}

void InputRouter::route(std::span<const GuestEvent> events) {
    if (events.empty()) return;
    if (prompt_) {
        route_to_prompt(events);
        return;
    }
    if (!foreground_ || personas_[*foreground_].guest == nullptr) {
        // The switch key is still counted as such: the audit trail wants to see it dropped.
        for (const GuestEvent& event : events) {
            const auto* key = std::get_if<KeyEvent>(&event);
            if (key != nullptr && key->code == switch_key_) {
                ++counters_.dropped_switch_key;
            } else {
                ++counters_.dropped_no_foreground;
            }
        }
        return;
    }
    Persona& persona = personas_[*foreground_];
    bool pushed = !persona.pending_releases.empty();
    // Owed releases first; if the ring still cannot take them, it cannot take new input either.
    if (!push_pending(persona)) {
        for (std::size_t i = 0; i < events.size(); ++i) note_full();
        persona.guest->flush();
        return;
    }
    bool touch_in_frame = false;
    for (const GuestEvent& event : events) {
        if (!admit(persona, event, touch_in_frame)) continue;
        deliver(persona, event);
        pushed = true;
    }
    if (pushed) persona.guest->flush();
}

bool InputRouter::push_pending(Persona& persona) {
    std::size_t done = 0;
    for (; done < persona.pending_releases.size(); ++done) {
        const PushResult result = persona.guest->push(persona.pending_releases[done]);
        if (result == PushResult::Full) break;
        if (result == PushResult::Delivered) ++counters_.released_at_switch;
        // NotWanted/Broken: nothing more can be done for this one.
    }
    persona.pending_releases.erase(persona.pending_releases.begin(),
                                   persona.pending_releases.begin() + static_cast<std::ptrdiff_t>(done));
    return persona.pending_releases.empty();
}

void InputRouter::guest_ready(PersonaId persona, const GuestInput& guest) {
    if (persona >= personas_.size()) return;
    Persona& entry = personas_[persona];
    if (entry.guest != &guest || entry.pending_releases.empty()) return;
    push_pending(entry);
    entry.guest->flush();
}

SwitchReleases InputRouter::switch_to(std::optional<PersonaId> persona) {
    if (persona && *persona >= personas_.size()) throw std::out_of_range("persona id");
    SwitchReleases released;
    if (foreground_ && foreground_ != persona) {
        Persona& old = personas_[*foreground_];
        released.keys = old.held.key_count();
        released.contacts = old.held.contact_count();
        auto releases = old.held.take_releases();
        if (old.guest != nullptr && !releases.empty()) {
            old.pending_releases.insert(old.pending_releases.end(), releases.begin(), releases.end());
            if (!push_pending(old)) {
                counters_.releases_deferred += old.pending_releases.size();
                log_->warn("vkbd ring of the old foreground is full: {} releases wait for it to drain",
                           old.pending_releases.size());
            }
            old.guest->flush();
        }
    }
    foreground_ = persona;
    prompt_ = false;
    return released;
}

SwitchReleases InputRouter::switch_to_prompt() {
    const SwitchReleases released = switch_to(std::nullopt);
    prompt_ = true;
    return released;
}

} // namespace twofold::input
