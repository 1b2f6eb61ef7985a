#include "twofold/input/translator.h"

#include <algorithm>
#include <linux/input-event-codes.h>

namespace twofold::input {

bool is_guest_key(std::uint32_t code) noexcept {
    return (code >= 1 && code < BTN_MISC) || (code >= BTN_LEFT && code <= BTN_TASK) || (code >= KEY_OK && code < KEY_MAX);
}

std::int32_t scale_axis(std::int32_t value, AxisRange range, std::uint32_t extent) noexcept {
    if (extent == 0 || range.max <= range.min) return 0;
    const std::int64_t clamped = std::clamp<std::int64_t>(value, range.min, range.max);
    const std::int64_t span = std::int64_t{range.max} - range.min;
    return static_cast<std::int32_t>((clamped - range.min) * (std::int64_t{extent} - 1) / span);
}

EventTranslator::EventTranslator(const DeviceInfo& device, GuestResolution guest)
    : guest_(guest), abs_x_(device.abs_x), abs_y_(device.abs_y), mt_x_(device.mt_x), mt_y_(device.mt_y),
      multi_touch_(device.mt_x.has_value() && device.mt_y.has_value() && device.mt_slots > 0),
      slot_count_(std::min({device.mt_slots, guest.contacts, kMaxContacts})) {}

void EventTranslator::feed(const RawEvent& event, std::vector<GuestEvent>& out) {
    switch (event.type) {
    case EV_KEY:
        if (event.value == 2) return; // autorepeat: the guest's input core repeats on its own
        // A touch panel's BTN_TOUCH/BTN_TOOL_* are implied by its contacts.
        if (!is_guest_key(event.code)) return;
        keys_.push_back(KeyEvent{event.code, event.value != 0});
        return;
    case EV_ABS:
        on_abs(event.code, event.value);
        return;
    case EV_REL:
        if (event.code == REL_WHEEL) wheel_ += std::clamp(event.value, -1000, 1000);
        return;
    case EV_SYN:
        if (event.code == SYN_REPORT) finish_report(out);
        return;
    default:
        return;
    }
}

void EventTranslator::on_abs(std::uint16_t code, std::int32_t value) {
    if (multi_touch_) {
        Slot* slot = current_slot_ >= 0 ? &slots_[static_cast<std::size_t>(current_slot_)] : nullptr;
        switch (code) {
        case ABS_MT_SLOT:
            current_slot_ = value >= 0 && static_cast<unsigned>(value) < slot_count_ ? value : -1;
            return;
        case ABS_MT_TRACKING_ID:
            if (slot != nullptr) slot->active = value >= 0;
            return;
        case ABS_MT_POSITION_X:
            if (slot != nullptr) {
                slot->x = scale_axis(value, *mt_x_, guest_.width);
                slot->moved = true;
            }
            return;
        case ABS_MT_POSITION_Y:
            if (slot != nullptr) {
                slot->y = scale_axis(value, *mt_y_, guest_.height);
                slot->moved = true;
            }
            return;
        default:
            // ABS_X/ABS_Y on a multi-touch panel only emulate its first contact.
            return;
        }
    }
    if (code == ABS_X && abs_x_) {
        x_ = scale_axis(value, *abs_x_, guest_.width);
        position_changed_ = true;
    } else if (code == ABS_Y && abs_y_) {
        y_ = scale_axis(value, *abs_y_, guest_.height);
        position_changed_ = true;
    }
}

void EventTranslator::finish_report(std::vector<GuestEvent>& out) {
    // Position first, so a click lands where the pointer now is.
    const bool pointer = abs_x_.has_value() && abs_y_.has_value() && !multi_touch_;
    if (pointer && (position_changed_ || wheel_ != 0)) out.emplace_back(PositionEvent{x_, y_, wheel_});
    position_changed_ = false;
    wheel_ = 0;
    for (const KeyEvent& key : keys_) out.emplace_back(key);
    keys_.clear();

    bool touched = false;
    for (unsigned i = 0; i < slot_count_; ++i) {
        Slot& slot = slots_[i];
        const auto contact = static_cast<std::uint8_t>(i);
        if (slot.active && !slot.reported_active) {
            out.emplace_back(TouchEvent{TouchPhase::Down, contact, slot.x, slot.y});
            touched = true;
        } else if (slot.active && slot.moved) {
            out.emplace_back(TouchEvent{TouchPhase::Motion, contact, slot.x, slot.y});
            touched = true;
        } else if (!slot.active && slot.reported_active) {
            out.emplace_back(TouchEvent{TouchPhase::Up, contact, 0, 0});
            touched = true;
        }
        slot.reported_active = slot.active;
        slot.moved = false;
    }
    if (touched) out.emplace_back(TouchEvent{TouchPhase::Frame, 0, 0, 0});
}

} // namespace twofold::input
