#include "twofold/rings/event_ring.h"

#include <stdexcept>

extern "C" {
#include <xen/io/displif.h>
#include <xen/io/fbif.h>
#include <xen/io/kbdif.h>
}

namespace twofold::rings {

static_assert(kFbInRing.ring_offset == XENFB_IN_RING_OFFS && kFbInRing.slot_count == XENFB_IN_RING_LEN &&
              kFbInRing.slot_size == XENFB_IN_EVENT_SIZE && kFbInRing.cons_offset == offsetof(xenfb_page, in_cons) &&
              kFbInRing.prod_offset == offsetof(xenfb_page, in_prod));
static_assert(kFbOutRing.ring_offset == XENFB_OUT_RING_OFFS && kFbOutRing.slot_count == XENFB_OUT_RING_LEN &&
              kFbOutRing.slot_size == XENFB_OUT_EVENT_SIZE && kFbOutRing.cons_offset == offsetof(xenfb_page, out_cons) &&
              kFbOutRing.prod_offset == offsetof(xenfb_page, out_prod));
static_assert(kKbdInRing.ring_offset == XENKBD_IN_RING_OFFS && kKbdInRing.slot_count == XENKBD_IN_RING_LEN &&
              kKbdInRing.slot_size == XENKBD_IN_EVENT_SIZE && kKbdInRing.cons_offset == offsetof(xenkbd_page, in_cons) &&
              kKbdInRing.prod_offset == offsetof(xenkbd_page, in_prod));
static_assert(kKbdOutRing.ring_offset == XENKBD_OUT_RING_OFFS && kKbdOutRing.slot_count == XENKBD_OUT_RING_LEN &&
              kKbdOutRing.slot_size == XENKBD_OUT_EVENT_SIZE && kKbdOutRing.cons_offset == offsetof(xenkbd_page, out_cons) &&
              kKbdOutRing.prod_offset == offsetof(xenkbd_page, out_prod));
static_assert(kDisplEventRing.ring_offset == XENDISPL_IN_RING_OFFS && kDisplEventRing.slot_count == XENDISPL_IN_RING_LEN &&
              kDisplEventRing.slot_size == sizeof(xendispl_evt) &&
              kDisplEventRing.cons_offset == offsetof(xendispl_event_page, in_cons) &&
              kDisplEventRing.prod_offset == offsetof(xendispl_event_page, in_prod) &&
              kDisplEventRing.ring_offset + kDisplEventRing.slot_count * kDisplEventRing.slot_size <= XENDISPL_EVENT_PAGE_SIZE);
static_assert(sizeof(xenfb_out_event) == XENFB_OUT_EVENT_SIZE && sizeof(xenkbd_in_event) == XENKBD_IN_EVENT_SIZE);

namespace {

std::span<std::byte> checked(std::span<std::byte> shared, const EventRingGeometry& g) {
    const auto base = reinterpret_cast<std::uintptr_t>(shared.data());
    if (g.slot_count == 0 || g.slot_size == 0 || g.slot_count > shared.size() / g.slot_size ||
        !fits(shared.size(), g.ring_offset, std::size_t{g.slot_count} * g.slot_size) ||
        !fits(shared.size(), g.cons_offset, sizeof(std::uint32_t)) ||
        !fits(shared.size(), g.prod_offset, sizeof(std::uint32_t)) || (base + g.cons_offset) % alignof(std::uint32_t) != 0 ||
        (base + g.prod_offset) % alignof(std::uint32_t) != 0) {
        throw std::invalid_argument("event ring geometry does not fit the mapping");
    }
    return shared;
}

std::span<std::byte> slot(std::span<std::byte> shared, const EventRingGeometry& g, std::uint32_t index) noexcept {
    // The protocol's XENFB_*_RING_REF / XENKBD_*_RING_REF: index modulo the slot count.
    return shared.subspan(g.ring_offset + (index % g.slot_count) * g.slot_size, g.slot_size);
}

} // namespace

EventConsumerCore::EventConsumerCore(std::span<std::byte> shared, EventRingGeometry geometry)
    : shared_(checked(shared, geometry)),
      geometry_(geometry),
      cons_(shared.data() + geometry.cons_offset),
      prod_(shared.data() + geometry.prod_offset),
      // Start where the guest's consumer index says (the frontend zeroes the page before
      // connecting); it is validated against the producer on every fetch.
      cons_pvt_(cons_.load_acquire()),
      published_cons_(cons_pvt_),
      visible_prod_(cons_pvt_) {}

std::optional<RingFault> EventConsumerCore::fetch_producer() noexcept {
    if (fault_) {
        return fault_;
    }
    // Acquire: the event slots written before out_prod are visible to our copies (rmb()).
    const std::uint32_t prod = prod_.load_acquire();
    if (static_cast<std::uint32_t>(prod - cons_pvt_) > geometry_.slot_count) {
        fault_ = RingFault::producer_overflow;
        return fault_;
    }
    visible_prod_ = prod;
    return std::nullopt;
}

bool EventConsumerCore::event_available() const noexcept { return !fault_ && cons_pvt_ != visible_prod_; }

void EventConsumerCore::take_event(std::span<std::byte> dst) noexcept {
    copy_from_shared(dst, slot(shared_, geometry_, cons_pvt_).first(dst.size()));
    ++cons_pvt_;
}

bool EventConsumerCore::release_and_check() noexcept {
    if (fault_) {
        return false;
    }
    if (cons_pvt_ != published_cons_) {
        // seq_cst: release (our copies are done before the guest reuses the slots) and a
        // full barrier before re-reading out_prod, so an event produced after our fetch is
        // either seen below or followed by the guest's notification (fbif frontends notify
        // after every event).
        cons_.store_seq_cst(cons_pvt_);
        published_cons_ = cons_pvt_;
    }
    return prod_.load_seq_cst() != cons_pvt_;
}

EventProducerCore::EventProducerCore(std::span<std::byte> shared, EventRingGeometry geometry)
    : shared_(checked(shared, geometry)),
      geometry_(geometry),
      cons_(shared.data() + geometry.cons_offset),
      prod_(shared.data() + geometry.prod_offset),
      prod_pvt_(prod_.load_acquire()) {}

PushStatus EventProducerCore::push(std::span<const std::byte> event) noexcept {
    if (fault_) {
        return PushStatus::fault;
    }
    // Acquire: the guest finished reading the slots it released before we overwrite one.
    const std::uint32_t cons = cons_.load_acquire();
    const std::uint32_t used = prod_pvt_ - cons;
    if (used > geometry_.slot_count) {
        fault_ = RingFault::consumer_overrun;
        return PushStatus::fault;
    }
    if (used == geometry_.slot_count) {
        return PushStatus::full;
    }
    const auto target = slot(shared_, geometry_, prod_pvt_);
    const std::size_t n = event.size() < target.size() ? event.size() : target.size();
    copy_to_shared(target.first(n), event.first(n));
    zero_shared(target.subspan(n));
    ++prod_pvt_;
    // Release: the slot is written before the guest sees the new in_prod (wmb()).
    prod_.store_release(prod_pvt_);
    return PushStatus::pushed;
}

} // namespace twofold::rings
