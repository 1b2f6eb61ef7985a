#include "twofold/xenbus/bind_backoff.h"

#include <algorithm>

namespace twofold::xenbus {

std::chrono::milliseconds BindBackoff::failed(Clock::time_point now) {
    ++failures_;
    if (failures_ <= limits_.free_failures) return std::chrono::milliseconds(0);
    std::chrono::milliseconds hold = limits_.first_hold;
    for (std::uint32_t i = limits_.free_failures + 1; i < failures_ && hold < limits_.max_hold; ++i) hold *= 2;
    hold = std::min(hold, limits_.max_hold);
    held_until_ = now + hold;
    return hold;
}

void BindBackoff::succeeded() noexcept {
    failures_ = 0;
    held_until_ = {};
}

} // namespace twofold::xenbus
