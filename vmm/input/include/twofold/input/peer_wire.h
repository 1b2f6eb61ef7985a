#pragma once
// The wire between the input owner (the one process holding dom0's evdev devices and the
// routing decision) and a persona's vkbd writer (the process serving that persona's
// xen-kbdfront, restricted to its domain): one SOCK_SEQPACKET socketpair per persona, made and
// kept by the manager, so each message arrives whole or not at all. Either side may be taken
// over, so each parses what the other sends strictly: exact lengths, known types, every field
// in range.
//
//   owner -> writer   Events  [1][n][n x 16-byte event]    1 <= n <= kMaxEventsPerMessage
//                     Sync    [2]                           "tell me your state" (owner started)
//   writer -> owner   State   [3][connected 0|1]            its frontend connected / went away
//                     Ready   [4]                           its guest consumed the ring
//
// An event: [kind][flag][contact][0][a int32][b int32][c int32], little-endian:
//   key 0: flag pressed 0|1, a the code (<= KEY_MAX); position 1: a x, b y, c wheel;
//   touch 2: flag the phase (down, motion, up, frame), contact < kMaxContacts, a x, b y.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "twofold/input/events.h"

namespace twofold::input::peer {

inline constexpr std::size_t kMaxEventsPerMessage = 64;
inline constexpr std::size_t kEventBytes = 16;
inline constexpr std::size_t kMaxMessageBytes = 2 + kMaxEventsPerMessage * kEventBytes;
// The largest key code linux/input-event-codes.h defines (KEY_MAX).
inline constexpr std::uint32_t kMaxKeyCode = 0x2ff;

struct Events {
    std::vector<GuestEvent> events;
    friend bool operator==(const Events&, const Events&) = default;
};
struct Sync {
    friend bool operator==(const Sync&, const Sync&) = default;
};
struct State {
    bool connected = false;
    friend bool operator==(const State&, const State&) = default;
};
struct Ready {
    friend bool operator==(const Ready&, const Ready&) = default;
};
struct WireError {
    std::string message;
};

using ToWriter = std::variant<Events, Sync>;
using ToOwner = std::variant<State, Ready>;

// `events` must hold 1..kMaxEventsPerMessage events whose values encode (throws
// std::invalid_argument otherwise: the owner only sends what its translator made).
[[nodiscard]] std::vector<std::byte> encode(const ToWriter& message);
[[nodiscard]] std::vector<std::byte> encode(const ToOwner& message);

[[nodiscard]] std::variant<ToWriter, WireError> parse_to_writer(std::span<const std::byte> untrusted);
[[nodiscard]] std::variant<ToOwner, WireError> parse_to_owner(std::span<const std::byte> untrusted);

} // namespace twofold::input::peer
