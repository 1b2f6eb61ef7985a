#pragma once
// Decides whether a persona that stopped may be restarted now: at most `max_attempts` restarts
// inside a sliding window, with exponential backoff between attempts so a persona that dies at
// boot does not spin dom0.
#include <chrono>
#include <cstdint>
#include <deque>
#include <optional>

namespace twofold::manager {

class RestartBudget {
public:
    using Clock = std::chrono::steady_clock;

    RestartBudget(std::uint32_t max_attempts, std::chrono::seconds window,
                  std::chrono::milliseconds first_delay = std::chrono::seconds(1),
                  std::chrono::milliseconds max_delay = std::chrono::seconds(30));

    // nullopt: the budget is exhausted (give up, report); otherwise the earliest time to try.
    [[nodiscard]] std::optional<Clock::time_point> next_attempt(Clock::time_point now);
    void record_attempt(Clock::time_point now);
    [[nodiscard]] std::uint32_t attempts_in_window(Clock::time_point now);

private:
    void forget_old(Clock::time_point now);

    std::uint32_t max_attempts_;
    std::chrono::seconds window_;
    std::chrono::milliseconds first_delay_;
    std::chrono::milliseconds max_delay_;
    std::deque<Clock::time_point> attempts_;
};

} // namespace twofold::manager
