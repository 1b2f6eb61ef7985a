#include "twofold/manager/loop_stall_meter.h"

namespace twofold::manager {

namespace {
constexpr auto kKeep = std::chrono::minutes(1); // longer than any switch phase may wait
} // namespace

LoopStallMeter::LoopStallMeter(boost::asio::io_context& io, std::chrono::milliseconds tick) : timer_(io), tick_(tick) {}

void LoopStallMeter::start() {
    last_ = Clock::now();
    arm();
}

void LoopStallMeter::stop() { timer_.cancel(); }

void LoopStallMeter::arm() {
    timer_.expires_after(tick_);
    timer_.async_wait([this](const boost::system::error_code& ec) {
        if (ec) return; // stopped (or the meter is going away)
        const auto now = Clock::now();
        const auto late = now - last_ - tick_;
        last_ = now;
        if (late > tick_) stalls_.push_back({now, late});
        while (!stalls_.empty() && now - stalls_.front().ended > kKeep) stalls_.pop_front();
        arm();
    });
}

LoopStallMeter::Clock::duration LoopStallMeter::stalled_since(Clock::time_point since) const {
    Clock::duration total{};
    for (const Stall& s : stalls_) {
        if (s.ended > since) total += s.length;
    }
    // A stall still going on (this very call runs late) has no tick yet: count it too.
    const auto now = Clock::now();
    if (const auto running = now - last_ - tick_; running > tick_ && last_ >= since) total += running;
    return total;
}

} // namespace twofold::manager
