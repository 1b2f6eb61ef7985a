#include "twofold/manager/key_gesture.h"

namespace twofold::manager {

KeyGestureRecognizer::KeyGestureRecognizer(Gesture bound, GestureTiming timing) : bound_(bound), timing_(timing) {}

std::optional<Gesture> KeyGestureRecognizer::on_key(bool down, TimePoint at) {
    raw_down_ = down;
    if (last_transition_ && at - *last_transition_ < timing_.debounce) {
        // Lockout debouncing: the first edge is taken at once (no added latency), edges in the
        // lockout are contact bounce. If the level at the end of the lockout differs from the
        // accepted one (a very short real tap), on_timer() accepts it then.
        return std::nullopt;
    }
    return accept(down, at);
}

std::optional<Gesture> KeyGestureRecognizer::accept(bool down, TimePoint at) {
    if (down == down_) {
        return std::nullopt; // repeated level (e.g. a dropped release re-synced): no transition
    }
    // A deadline may have passed without on_timer() being called (busy loop): settle it first
    // so the order of events stays the user's order. A timed gesture leaves the machine in
    // Idle or LongFired, where a transition completes nothing, so at most one is reported.
    const auto timed = settle_gesture_deadline(at);
    down_ = down;
    last_transition_ = at;
    const auto by_key = transition(down, at);
    return timed ? timed : by_key;
}

std::optional<Gesture> KeyGestureRecognizer::transition(bool down, TimePoint at) {
    switch (phase_) {
    case Phase::Idle:
        if (down) {
            phase_ = Phase::FirstDown;
            phase_since_ = at;
        }
        return std::nullopt;
    case Phase::FirstDown:
        if (down) {
            return std::nullopt;
        }
        if (bound_ == Gesture::DoublePress) {
            phase_ = Phase::WaitSecond;
            phase_since_ = at;
            return std::nullopt;
        }
        phase_ = Phase::Idle;
        return Gesture::Press;
    case Phase::WaitSecond:
        if (down) {
            phase_ = Phase::SecondDown;
            phase_since_ = at;
        }
        return std::nullopt;
    case Phase::SecondDown:
        if (!down) {
            phase_ = Phase::Idle;
            return Gesture::DoublePress;
        }
        return std::nullopt;
    case Phase::LongFired:
        if (!down) {
            phase_ = Phase::Idle; // the release that ends a long press is not a new gesture
        }
        return std::nullopt;
    }
    return std::nullopt;
}

std::optional<Gesture> KeyGestureRecognizer::on_timer(TimePoint now) {
    if (auto gesture = settle_gesture_deadline(now)) {
        return gesture;
    }
    if (raw_down_ != down_ && last_transition_ && now - *last_transition_ >= timing_.debounce) {
        return accept(raw_down_, *last_transition_ + timing_.debounce);
    }
    return std::nullopt;
}

std::optional<Gesture> KeyGestureRecognizer::settle_gesture_deadline(TimePoint now) {
    const auto deadline = gesture_deadline();
    if (!deadline || now < *deadline) {
        return std::nullopt;
    }
    switch (phase_) {
    case Phase::FirstDown:
    case Phase::SecondDown:
        phase_ = Phase::LongFired;
        return Gesture::LongPress;
    case Phase::WaitSecond:
        phase_ = Phase::Idle;
        return Gesture::Press;
    case Phase::Idle:
    case Phase::LongFired:
        break;
    }
    return std::nullopt;
}

std::optional<KeyGestureRecognizer::TimePoint> KeyGestureRecognizer::next_deadline() const {
    auto deadline = gesture_deadline();
    if (raw_down_ != down_ && last_transition_) {
        const auto settle = *last_transition_ + timing_.debounce;
        if (!deadline || settle < *deadline) {
            deadline = settle;
        }
    }
    return deadline;
}

std::optional<KeyGestureRecognizer::TimePoint> KeyGestureRecognizer::gesture_deadline() const {
    switch (phase_) {
    case Phase::FirstDown:
    case Phase::SecondDown:
        return phase_since_ + timing_.long_press;
    case Phase::WaitSecond:
        return phase_since_ + timing_.double_press_window;
    case Phase::Idle:
    case Phase::LongFired:
        break;
    }
    return std::nullopt;
}

const char* to_string(Gesture gesture) noexcept {
    switch (gesture) {
    case Gesture::Press: return "press";
    case Gesture::DoublePress: return "double_press";
    case Gesture::LongPress: return "long_press";
    }
    return "unknown";
}

} // namespace twofold::manager
