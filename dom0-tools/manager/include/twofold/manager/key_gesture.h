#pragma once
// Recognises the hardware switch key's gesture (press, double press, long press) from raw
// key transitions, with debouncing. Pure and clock-free: the caller feeds timestamps and
// calls on_timer() at next_deadline(), so tests drive it with a fake clock.
#include <chrono>
#include <cstdint>
#include <optional>
#include <vector>

namespace twofold::manager {

enum class Gesture : std::uint8_t { Press, DoublePress, LongPress };

struct GestureTiming {
    // Mechanical contacts bounce for a few ms; transitions closer than this are noise.
    std::chrono::milliseconds debounce{20};
    std::chrono::milliseconds double_press_window{400};
    std::chrono::milliseconds long_press{800};
};

class KeyGestureRecognizer {
public:
    using Clock = std::chrono::steady_clock;
    using TimePoint = Clock::time_point;

    // `bound` is the gesture the policy binds. Only when it is DoublePress does a single press
    // wait for the double-press window (otherwise a press reports at once, keeping switches fast).
    KeyGestureRecognizer(Gesture bound, GestureTiming timing);

    // One key transition; returns a gesture completed by it, if any.
    std::optional<Gesture> on_key(bool down, TimePoint at);
    // Call at (or after) next_deadline(); returns a gesture completed by the passage of time.
    std::optional<Gesture> on_timer(TimePoint now);
    [[nodiscard]] std::optional<TimePoint> next_deadline() const;

    [[nodiscard]] bool held() const noexcept { return down_; }

private:
    enum class Phase : std::uint8_t { Idle, FirstDown, WaitSecond, SecondDown, LongFired };

    std::optional<Gesture> accept(bool down, TimePoint at);
    std::optional<Gesture> transition(bool down, TimePoint at);
    std::optional<Gesture> settle_gesture_deadline(TimePoint now);
    [[nodiscard]] std::optional<TimePoint> gesture_deadline() const;

    Gesture bound_;
    GestureTiming timing_;
    Phase phase_ = Phase::Idle;
    bool down_ = false;     // the accepted (debounced) level
    bool raw_down_ = false; // the last level reported by the device
    std::optional<TimePoint> last_transition_;
    TimePoint phase_since_{};
};

[[nodiscard]] const char* to_string(Gesture gesture) noexcept;

} // namespace twofold::manager
