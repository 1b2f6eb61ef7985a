#pragma once
// The two event vocabularies of the input backend: what dom0's evdev devices report
// (RawEvent, in each device's own units) and what a guest's vkbd ring carries (GuestEvent, in
// the guest's pixels). The translator turns the first into the second; nothing else does.
#include <cstdint>
#include <optional>
#include <string>
#include <variant>

namespace twofold::input {

// One struct input_event without its timestamp (the guest stamps events on arrival).
struct RawEvent {
    std::uint16_t type = 0;
    std::uint16_t code = 0;
    std::int32_t value = 0;
    friend bool operator==(const RawEvent&, const RawEvent&) = default;
};

struct AxisRange {
    std::int32_t min = 0;
    std::int32_t max = 0;
};

// What the backend needs to know about a source device to translate its events.
struct DeviceInfo {
    std::string name;
    std::optional<AxisRange> abs_x;     // ABS_X: a tablet or single-touch panel
    std::optional<AxisRange> abs_y;
    std::optional<AxisRange> mt_x;      // ABS_MT_POSITION_X: a multi-touch panel (protocol B)
    std::optional<AxisRange> mt_y;
    unsigned mt_slots = 0;
};

// The resolution and touch contacts the guest is told (xenstore width/height,
// multi-touch-width/height/num-contacts), and into which every coordinate is scaled.
inline constexpr std::uint32_t kMaxGuestExtent = 16384;
inline constexpr unsigned kMaxContacts = 16;
struct GuestResolution {
    std::uint32_t width = 800;
    std::uint32_t height = 600;
    unsigned contacts = 10;
};
[[nodiscard]] constexpr bool valid(const GuestResolution& r) noexcept {
    return r.width > 0 && r.height > 0 && r.width <= kMaxGuestExtent && r.height <= kMaxGuestExtent && r.contacts <= kMaxContacts;
}

struct KeyEvent {
    std::uint32_t code = 0; // KEY_* / BTN_* from linux/input-event-codes.h
    bool pressed = false;
    friend bool operator==(const KeyEvent&, const KeyEvent&) = default;
};

struct PositionEvent {
    std::int32_t x = 0;
    std::int32_t y = 0;
    std::int32_t wheel = 0; // relative, REL_WHEEL clicks
    friend bool operator==(const PositionEvent&, const PositionEvent&) = default;
};

// XENKBD_MT_EV_DOWN/MOTION/UP and SYN (Frame: the end of one report of all contacts).
enum class TouchPhase : std::uint8_t { Down, Motion, Up, Frame };
struct TouchEvent {
    TouchPhase phase = TouchPhase::Frame;
    std::uint8_t contact = 0;
    std::int32_t x = 0;
    std::int32_t y = 0;
    friend bool operator==(const TouchEvent&, const TouchEvent&) = default;
};

using GuestEvent = std::variant<KeyEvent, PositionEvent, TouchEvent>;

} // namespace twofold::input
