#include "twofold/manager/restart_budget.h"

#include <algorithm>

namespace twofold::manager {

RestartBudget::RestartBudget(std::uint32_t max_attempts, std::chrono::seconds window,
                             std::chrono::milliseconds first_delay, std::chrono::milliseconds max_delay)
    : max_attempts_(max_attempts), window_(window), first_delay_(first_delay), max_delay_(max_delay) {}

void RestartBudget::forget_old(Clock::time_point now) {
    while (!attempts_.empty() && now - attempts_.front() >= window_) {
        attempts_.pop_front();
    }
}

std::uint32_t RestartBudget::attempts_in_window(Clock::time_point now) {
    forget_old(now);
    return static_cast<std::uint32_t>(attempts_.size());
}

std::optional<RestartBudget::Clock::time_point> RestartBudget::next_attempt(Clock::time_point now) {
    forget_old(now);
    if (attempts_.size() >= max_attempts_) {
        return std::nullopt;
    }
    if (attempts_.empty()) {
        return now;
    }
    // 1st retry after first_delay, then doubling, capped.
    auto delay = first_delay_;
    for (std::size_t i = 1; i < attempts_.size() && delay < max_delay_; ++i) {
        delay *= 2;
    }
    delay = std::min(delay, max_delay_);
    return std::max(now, attempts_.back() + delay);
}

void RestartBudget::record_attempt(Clock::time_point now) { attempts_.push_back(now); }

} // namespace twofold::manager
