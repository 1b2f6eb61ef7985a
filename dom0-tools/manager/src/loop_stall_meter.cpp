#include "twofold/manager/loop_stall_meter.h"

namespace twofold::manager {

namespace {
constexpr auto kKeep = std::chrono::minutes(1); // longer than any switch phase may wait
} // namespace

LoopStallMeter::LoopStallMeter(boost::asio::io_context& io, std::chrono::milliseconds tick)
    : state_(std::make_shared<State>(io, tick)) {}

void LoopStallMeter::start() {
    state_->last = Clock::now();
    arm(state_);
}

void LoopStallMeter::stop() { state_->timer.cancel(); }

void LoopStallMeter::arm(const std::shared_ptr<State>& state) {
    state->timer.expires_after(state->tick);
    state->timer.async_wait([weak = std::weak_ptr<State>(state)](const boost::system::error_code& ec) {
        const auto s = weak.lock();
        if (ec || !s) return; // stopped, or the meter is gone
        const auto now = Clock::now();
        const auto late = now - s->last - s->tick;
        s->last = now;
        if (late > s->tick) s->stalls.push_back({now, late});
        while (!s->stalls.empty() && now - s->stalls.front().ended > kKeep) s->stalls.pop_front();
        arm(s);
    });
}

LoopStallMeter::Clock::duration LoopStallMeter::stalled_since(Clock::time_point since) const {
    Clock::duration total{};
    for (const Stall& s : state_->stalls) {
        if (s.ended > since) total += s.length;
    }
    // A stall still going on (this very call runs late) has no tick yet: count it too.
    const auto now = Clock::now();
    if (const auto running = now - state_->last - state_->tick; running > state_->tick && state_->last >= since) {
        total += running;
    }
    return total;
}

} // namespace twofold::manager
