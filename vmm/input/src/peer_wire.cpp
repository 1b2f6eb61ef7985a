#include "twofold/input/peer_wire.h"

#include <stdexcept>

namespace twofold::input::peer {

namespace {

enum Type : std::uint8_t { kEvents = 1, kSync = 2, kState = 3, kReady = 4 };
enum Kind : std::uint8_t { kKey = 0, kPosition = 1, kTouch = 2 };

void put32(std::vector<std::byte>& out, std::int32_t value) {
    const auto u = static_cast<std::uint32_t>(value);
    for (int shift = 0; shift < 32; shift += 8) out.push_back(static_cast<std::byte>((u >> shift) & 0xffU));
}

std::int32_t get32(std::span<const std::byte> in) {
    std::uint32_t u = 0;
    for (std::size_t i = 0; i < 4; ++i) u |= static_cast<std::uint32_t>(in[i]) << (8 * i);
    return static_cast<std::int32_t>(u);
}

void put_event(std::vector<std::byte>& out, std::uint8_t kind, std::uint8_t flag, std::uint8_t contact, std::int32_t a,
               std::int32_t b, std::int32_t c) {
    out.push_back(std::byte{kind});
    out.push_back(std::byte{flag});
    out.push_back(std::byte{contact});
    out.push_back(std::byte{0});
    put32(out, a);
    put32(out, b);
    put32(out, c);
}

void encode_event(std::vector<std::byte>& out, const GuestEvent& event) {
    if (const auto* key = std::get_if<KeyEvent>(&event)) {
        if (key->code > kMaxKeyCode) throw std::invalid_argument("key code beyond KEY_MAX");
        put_event(out, kKey, key->pressed ? 1 : 0, 0, static_cast<std::int32_t>(key->code), 0, 0);
    } else if (const auto* pos = std::get_if<PositionEvent>(&event)) {
        put_event(out, kPosition, 0, 0, pos->x, pos->y, pos->wheel);
    } else {
        const auto& touch = std::get<TouchEvent>(event);
        if (touch.contact >= kMaxContacts) throw std::invalid_argument("touch contact beyond the contacts offered");
        put_event(out, kTouch, static_cast<std::uint8_t>(touch.phase), touch.contact, touch.x, touch.y, 0);
    }
}

bool in_extent(std::int32_t x, std::int32_t y) noexcept {
    return x >= 0 && y >= 0 && static_cast<std::uint32_t>(x) <= kMaxGuestExtent && static_cast<std::uint32_t>(y) <= kMaxGuestExtent;
}

std::variant<GuestEvent, WireError> parse_event(std::span<const std::byte> in) {
    const auto kind = static_cast<std::uint8_t>(in[0]);
    const auto flag = static_cast<std::uint8_t>(in[1]);
    const auto contact = static_cast<std::uint8_t>(in[2]);
    if (in[3] != std::byte{0}) return WireError{"event padding is not zero"};
    const std::int32_t a = get32(in.subspan(4, 4));
    const std::int32_t b = get32(in.subspan(8, 4));
    const std::int32_t c = get32(in.subspan(12, 4));
    switch (kind) {
    case kKey:
        if (flag > 1 || contact != 0 || b != 0 || c != 0) return WireError{"key event with stray fields"};
        if (a < 0 || static_cast<std::uint32_t>(a) > kMaxKeyCode) return WireError{"key code out of range"};
        return GuestEvent{KeyEvent{static_cast<std::uint32_t>(a), flag == 1}};
    case kPosition:
        if (flag != 0 || contact != 0) return WireError{"position event with stray fields"};
        if (!in_extent(a, b)) return WireError{"position outside the largest guest extent"};
        return GuestEvent{PositionEvent{a, b, c}};
    case kTouch:
        if (flag > static_cast<std::uint8_t>(TouchPhase::Frame) || contact >= kMaxContacts || c != 0) {
            return WireError{"touch event with an unknown phase, contact or stray field"};
        }
        if (!in_extent(a, b)) return WireError{"touch outside the largest guest extent"};
        return GuestEvent{TouchEvent{static_cast<TouchPhase>(flag), contact, a, b}};
    default:
        return WireError{"unknown event kind " + std::to_string(kind)};
    }
}

} // namespace

std::vector<std::byte> encode(const ToWriter& message) {
    std::vector<std::byte> out;
    if (const auto* events = std::get_if<Events>(&message)) {
        if (events->events.empty() || events->events.size() > kMaxEventsPerMessage) {
            throw std::invalid_argument("an events message holds 1 to 64 events");
        }
        out.reserve(2 + events->events.size() * kEventBytes);
        out.push_back(std::byte{kEvents});
        out.push_back(static_cast<std::byte>(events->events.size()));
        for (const auto& event : events->events) encode_event(out, event);
    } else {
        out.push_back(std::byte{kSync});
    }
    return out;
}

std::vector<std::byte> encode(const ToOwner& message) {
    if (const auto* state = std::get_if<State>(&message)) {
        return {std::byte{kState}, std::byte{static_cast<std::uint8_t>(state->connected ? 1 : 0)}};
    }
    return {std::byte{kReady}};
}

std::variant<ToWriter, WireError> parse_to_writer(std::span<const std::byte> untrusted) {
    if (untrusted.empty()) return WireError{"empty message"};
    switch (static_cast<std::uint8_t>(untrusted[0])) {
    case kSync:
        if (untrusted.size() != 1) return WireError{"sync with trailing bytes"};
        return ToWriter{Sync{}};
    case kEvents: {
        if (untrusted.size() < 2) return WireError{"events message without a count"};
        const auto count = static_cast<std::size_t>(untrusted[1]);
        if (count == 0 || count > kMaxEventsPerMessage) return WireError{"events count out of range"};
        if (untrusted.size() != 2 + count * kEventBytes) return WireError{"events message length does not match its count"};
        Events events;
        events.events.reserve(count);
        for (std::size_t i = 0; i < count; ++i) {
            auto event = parse_event(untrusted.subspan(2 + i * kEventBytes, kEventBytes));
            if (auto* error = std::get_if<WireError>(&event)) return WireError{"event " + std::to_string(i) + ": " + error->message};
            events.events.push_back(std::get<GuestEvent>(event));
        }
        return ToWriter{std::move(events)};
    }
    default:
        return WireError{"unknown message type " + std::to_string(static_cast<unsigned>(untrusted[0])) + " for a writer"};
    }
}

std::variant<ToOwner, WireError> parse_to_owner(std::span<const std::byte> untrusted) {
    if (untrusted.empty()) return WireError{"empty message"};
    switch (static_cast<std::uint8_t>(untrusted[0])) {
    case kState:
        if (untrusted.size() != 2) return WireError{"state message of the wrong length"};
        if (static_cast<std::uint8_t>(untrusted[1]) > 1) return WireError{"state is neither 0 nor 1"};
        return ToOwner{State{untrusted[1] == std::byte{1}}};
    case kReady:
        if (untrusted.size() != 1) return WireError{"ready with trailing bytes"};
        return ToOwner{Ready{}};
    default:
        return WireError{"unknown message type " + std::to_string(static_cast<unsigned>(untrusted[0])) + " for the owner"};
    }
}

} // namespace twofold::input::peer
