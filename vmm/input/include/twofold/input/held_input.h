#pragma once
// What one persona's guest currently believes is held down: the keys and touch contacts whose
// press it received and whose release it has not. Recorded only for events that reached the
// guest's ring, so a dropped press is never "released" and a dropped release is released at
// the next switch.
#include <bitset>
#include <cstdint>
#include <set>
#include <vector>

#include "twofold/input/events.h"

namespace twofold::input {

class HeldInput {
public:
    void record(const GuestEvent& delivered);
    [[nodiscard]] bool holds_key(std::uint32_t code) const { return keys_.count(code) != 0; }
    [[nodiscard]] bool holds_contact(std::uint8_t contact) const { return contacts_.test(contact); }
    [[nodiscard]] bool empty() const noexcept { return keys_.empty() && contacts_.none(); }
    [[nodiscard]] std::size_t key_count() const noexcept { return keys_.size(); }
    [[nodiscard]] std::size_t contact_count() const noexcept { return contacts_.count(); }

    // Key-ups for every held key, then touch-ups for every held contact and one frame; the
    // state is cleared (whether or not the caller manages to deliver them).
    std::vector<GuestEvent> take_releases();
    void clear() noexcept;

private:
    std::set<std::uint32_t> keys_;
    std::bitset<256> contacts_;
};

} // namespace twofold::input
