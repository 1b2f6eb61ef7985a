#pragma once
// Turns one evdev device's event stream into guest events, one input report (up to
// SYN_REPORT) at a time: absolute axes scaled from the device's range into the guest
// resolution, multi-touch protocol B slots into XENKBD_MT down/motion/up + frame, keys the
// guest's xen-kbdfront can report. Autorepeat (value 2) is dropped: the guest repeats itself.
#include <array>
#include <cstdint>
#include <vector>

#include "twofold/input/events.h"

namespace twofold::input {

// Keys Linux xen-kbdfront registers (keyboard: 1..BTN_MISC-1 and KEY_OK..KEY_MAX-1; pointer:
// BTN_LEFT..BTN_TASK); others (BTN_TOUCH, BTN_TOOL_*) it would log as unhandled.
[[nodiscard]] bool is_guest_key(std::uint32_t code) noexcept;

// `value` from [range.min, range.max] to [0, extent - 1], clamped; a device whose range is
// empty or inverted maps everything to 0.
[[nodiscard]] std::int32_t scale_axis(std::int32_t value, AxisRange range, std::uint32_t extent) noexcept;

class EventTranslator {
public:
    EventTranslator(const DeviceInfo& device, GuestResolution guest);

    // Appends the guest events of a completed report to `out` when `event` is SYN_REPORT.
    void feed(const RawEvent& event, std::vector<GuestEvent>& out);

private:
    struct Slot {
        bool active = false;
        bool reported_active = false;
        bool moved = false;
        std::int32_t x = 0;
        std::int32_t y = 0;
    };

    void on_abs(std::uint16_t code, std::int32_t value);
    void finish_report(std::vector<GuestEvent>& out);

    GuestResolution guest_;
    std::optional<AxisRange> abs_x_;
    std::optional<AxisRange> abs_y_;
    std::optional<AxisRange> mt_x_;
    std::optional<AxisRange> mt_y_;
    bool multi_touch_;
    unsigned slot_count_;
    std::array<Slot, kMaxContacts> slots_{};
    int current_slot_ = 0; // -1: the device selected a slot beyond what we track
    std::int32_t x_ = 0;
    std::int32_t y_ = 0;
    bool position_changed_ = false;
    std::int32_t wheel_ = 0;
    std::vector<KeyEvent> keys_;
};

} // namespace twofold::input
