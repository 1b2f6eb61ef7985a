#pragma once
// How long the manager's own event loop could not run.
//
// Some of the manager's work is still synchronous on its loop: a persona's start (libvirt's
// domain creation, seconds on a board) and libvirt queries for `twofold status`. A switch
// phase's timeout that counts those seconds blames a backend for the manager's own stall:
// board run test-20261207-131750 aborted the switch after the PIN unlock ("timed out waiting
// for input (detach)") 84 ms after the input backend had the order, because the loop had been
// blocked for most of the 2 s. The switch timeout asks this meter how much of its wait the
// loop was stalled, and waits that much longer (bounded).
#include <chrono>
#include <deque>
#include <memory>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

namespace twofold::manager {

class LoopStallMeter {
public:
    using Clock = std::chrono::steady_clock;
    // A tick that ran later than `tick` after the previous one counts the excess as a stall.
    explicit LoopStallMeter(boost::asio::io_context& io, std::chrono::milliseconds tick = std::chrono::milliseconds(50));
    LoopStallMeter(const LoopStallMeter&) = delete;
    LoopStallMeter& operator=(const LoopStallMeter&) = delete;

    void start();
    void stop();

    // The stalls that ended after `since` (a stall that began before it counts whole: the
    // caller waits longer rather than less).
    [[nodiscard]] Clock::duration stalled_since(Clock::time_point since) const;

private:
    struct Stall {
        Clock::time_point ended;
        Clock::duration length;
    };
    // The tick's handler holds this weakly: a tick that had already fired when the meter went
    // away (its completion queued, no longer cancellable) finds nothing and stops.
    struct State {
        State(boost::asio::io_context& io, std::chrono::milliseconds t) : timer(io), tick(t) {}
        boost::asio::steady_timer timer;
        std::chrono::milliseconds tick;
        Clock::time_point last{};
        std::deque<Stall> stalls; // the last minute's, oldest first
    };
    static void arm(const std::shared_ptr<State>& state);

    std::shared_ptr<State> state_;
};

} // namespace twofold::manager
