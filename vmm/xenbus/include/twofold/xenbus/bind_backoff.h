#pragma once
// How long a frontend that keeps failing to bind is held before it is served again.
//
// A guest can rewrite its frontend `state` in a loop with rings or values the backend refuses:
// each round costs the backend a bind attempt (xenstore reads, a mapping, a refusal, its log
// line and audit event). The first few failures are served at once (a frontend may retry
// after a transient fault); after that the connection ignores the frontend's state for
// `first_hold`, doubling up to `max_hold`, while the backend stays in Closing. A bind that
// succeeds starts the count afresh.
#include <chrono>
#include <cstdint>

namespace twofold::xenbus {

struct BindBackoffLimits {
    std::uint32_t free_failures = 3;
    std::chrono::milliseconds first_hold{1000};
    std::chrono::milliseconds max_hold{60000};
};

class BindBackoff {
public:
    using Clock = std::chrono::steady_clock;

    explicit BindBackoff(BindBackoffLimits limits = {}) : limits_(limits) {}

    // A bind failed at `now`: how long the frontend is now held (zero: not held).
    std::chrono::milliseconds failed(Clock::time_point now);
    void succeeded() noexcept;
    [[nodiscard]] bool held(Clock::time_point now) const noexcept { return now < held_until_; }
    [[nodiscard]] Clock::time_point held_until() const noexcept { return held_until_; }
    [[nodiscard]] std::uint32_t failures() const noexcept { return failures_; }

private:
    BindBackoffLimits limits_;
    std::uint32_t failures_ = 0;
    Clock::time_point held_until_{};
};

} // namespace twofold::xenbus
