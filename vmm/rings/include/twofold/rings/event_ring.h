#pragma once
// Event rings: fixed-size event slots at fixed offsets of one shared page, free-running
// 32-bit indices, slot = index % slot_count (xen/io/fbif.h, xen/io/kbdif.h; the slot counts
// are not powers of two). One class per direction:
//   EventConsumer<Event>  the guest produces (vfb out ring: update, resize);
//   EventProducer<Event>  we produce (vkbd in ring: key, motion, multi-touch; vfb in ring:
//                         refresh period).
// Same rules as the request rings: the guest's index is read once and validated, each
// event is copied once and only the copy is handed on, work per wake-up is bounded, and a
// full ring is reported instead of overwriting events the guest has not read.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <stdexcept>
#include <span>
#include <type_traits>
#include <utility>

#include "twofold/rings/fault.h"
#include "twofold/rings/shared_memory.h"

namespace twofold::rings {

struct EventRingGeometry {
    std::size_t ring_offset;
    std::uint32_t slot_count;
    std::size_t slot_size;
    std::size_t cons_offset;
    std::size_t prod_offset;
};

// The rings of fbif.h, kbdif.h and displif.h (values static_asserted against the C macros).
inline constexpr EventRingGeometry kFbInRing{1024, 1024 / 40, 40, 0, 4};      // XENFB_IN_*
inline constexpr EventRingGeometry kFbOutRing{2048, 2048 / 40, 40, 8, 12};    // XENFB_OUT_*
inline constexpr EventRingGeometry kKbdInRing{1024, 2048 / 40, 40, 0, 4};     // XENKBD_IN_*
inline constexpr EventRingGeometry kKbdOutRing{3072, 1024 / 40, 40, 8, 12};   // XENKBD_OUT_*
// displif's event page (backend -> frontend: page-flip completions, struct xendispl_evt).
inline constexpr EventRingGeometry kDisplEventRing{64, (4096 - 64) / 64, 64, 0, 4}; // XENDISPL_IN_*

struct EventProcessResult {
    std::size_t processed = 0;
    bool more_pending = false; // call again instead of waiting for an event
    std::optional<RingFault> fault;
};

enum class PushStatus : std::uint8_t {
    pushed,
    full,  // the guest has not consumed enough: drop or coalesce, then retry later
    fault, // the guest's consumer index is impossible: disconnect it
};

// Untyped consumer: validation, slot copies and index updates.
class EventConsumerCore {
public:
    // Throws std::invalid_argument when the geometry does not fit shared (our bug).
    EventConsumerCore(std::span<std::byte> shared, EventRingGeometry geometry);

    [[nodiscard]] std::optional<RingFault> fetch_producer() noexcept;
    [[nodiscard]] bool event_available() const noexcept;
    void take_event(std::span<std::byte> dst) noexcept;
    // Publishes our consumer index; true when the guest has produced more meanwhile.
    [[nodiscard]] bool release_and_check() noexcept;
    [[nodiscard]] std::optional<RingFault> fault() const noexcept { return fault_; }

private:
    std::span<std::byte> shared_;
    EventRingGeometry geometry_;
    SharedIndex cons_;
    SharedIndex prod_;
    std::uint32_t cons_pvt_;
    std::uint32_t published_cons_;
    std::uint32_t visible_prod_;
    std::optional<RingFault> fault_;
};

class EventProducerCore {
public:
    EventProducerCore(std::span<std::byte> shared, EventRingGeometry geometry);

    // Writes one slot (event bytes, rest of the slot zeroed) and publishes it.
    [[nodiscard]] PushStatus push(std::span<const std::byte> event) noexcept;
    [[nodiscard]] std::optional<RingFault> fault() const noexcept { return fault_; }

private:
    std::span<std::byte> shared_;
    EventRingGeometry geometry_;
    SharedIndex cons_;
    SharedIndex prod_;
    std::uint32_t prod_pvt_;
    std::optional<RingFault> fault_;
};

template <typename Event>
class EventConsumer {
    static_assert(std::is_trivially_copyable_v<Event> && std::is_standard_layout_v<Event>);

public:
    EventConsumer(std::span<std::byte> shared, EventRingGeometry geometry) : core_(shared, checked(geometry)) {}

    // handler: void(const Event&) noexcept, called with a private copy of each event.
    template <typename Handler>
    EventProcessResult process(std::size_t budget, Handler&& handler) {
        static_assert(std::is_nothrow_invocable_v<Handler&, const Event&>, "event handlers are noexcept");
        EventProcessResult result;
        if (auto fault = core_.fetch_producer()) {
            result.fault = fault;
            return result;
        }
        while (result.processed < budget && core_.event_available()) {
            Event event{};
            core_.take_event(std::as_writable_bytes(std::span{&event, 1}));
            handler(std::as_const(event));
            ++result.processed;
        }
        result.more_pending = core_.release_and_check();
        return result;
    }
    [[nodiscard]] std::optional<RingFault> fault() const noexcept { return core_.fault(); }

private:
    static EventRingGeometry checked(EventRingGeometry geometry) {
        if (sizeof(Event) != geometry.slot_size) {
            throw std::invalid_argument("event type does not match the ring's slot size");
        }
        return geometry;
    }
    EventConsumerCore core_;
};

template <typename Event>
class EventProducer {
    static_assert(std::is_trivially_copyable_v<Event> && std::is_standard_layout_v<Event>);

public:
    EventProducer(std::span<std::byte> shared, EventRingGeometry geometry) : core_(shared, checked(geometry)) {}

    // fill: void(Event&) noexcept, given an all-zero Event (padding included) to fill in,
    // so no byte of ours the caller did not mean to send reaches the guest.
    template <typename Fill>
    PushStatus push(Fill&& fill) {
        static_assert(std::is_nothrow_invocable_v<Fill&, Event&>, "event fillers are noexcept");
        Event event;
        std::memset(&event, 0, sizeof event);
        fill(event);
        return core_.push(std::as_bytes(std::span{&event, 1}));
    }
    [[nodiscard]] std::optional<RingFault> fault() const noexcept { return core_.fault(); }

private:
    static EventRingGeometry checked(EventRingGeometry geometry) {
        if (sizeof(Event) != geometry.slot_size) {
            throw std::invalid_argument("event type does not match the ring's slot size");
        }
        return geometry;
    }
    EventProducerCore core_;
};

} // namespace twofold::rings
