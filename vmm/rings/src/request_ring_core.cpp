#include "twofold/rings/request_ring_core.h"

#include <stdexcept>

namespace twofold::rings {
namespace {

std::span<std::byte> checked(std::span<std::byte> shared, SlotGeometry geometry) {
    if (reinterpret_cast<std::uintptr_t>(shared.data()) % geometry.entry_align != 0 ||
        reinterpret_cast<std::uintptr_t>(shared.data()) % alignof(std::uint32_t) != 0) {
        throw std::invalid_argument("ring mapping is not aligned for its entries");
    }
    if (sring::entries_for(shared.size(), geometry.entry_size, geometry.entry_align) == 0) {
        throw std::invalid_argument("ring mapping too small for one entry");
    }
    return shared;
}

} // namespace

RequestRingCore::RequestRingCore(std::span<std::byte> shared, SlotGeometry geometry, RingIndex start)
    : shared_(checked(shared, geometry)),
      geometry_(geometry),
      ring_offset_(sring::ring_offset(geometry.entry_align)),
      size_(sring::entries_for(shared.size(), geometry.entry_size, geometry.entry_align)),
      req_prod_(shared.data() + sring::kReqProd),
      req_event_(shared.data() + sring::kReqEvent),
      rsp_prod_(shared.data() + sring::kRspProd),
      rsp_event_(shared.data() + sring::kRspEvent),
      req_cons_(start),
      rsp_prod_pvt_(start),
      published_rsp_prod_(start),
      visible_req_prod_(start) {}

std::optional<RingFault> RequestRingCore::fetch_producer() noexcept {
    if (fault_) {
        return fault_;
    }
    // Acquire: the request slots the frontend wrote before bumping req_prod are visible to
    // the copies we make next (the xen_rmb() after reading req_prod in backends).
    const RingIndex prod = req_prod_.load_acquire();
    // RING_REQUEST_PROD_OVERFLOW: unsigned distance from the oldest slot we have not yet
    // answered. More than size() means the frontend overwrote slots we still own, or the
    // index is garbage; either way it is ill-behaved and we stop reading this ring.
    if (static_cast<RingIndex>(prod - rsp_prod_pvt_) > size_) {
        fault_ = RingFault::producer_overflow;
        return fault_;
    }
    // A producer that moved back behind requests we already took (possible to express only
    // while some are still unanswered) is just as ill-behaved; without this check the
    // consumer would chase it around the whole 32-bit index space.
    if (static_cast<RingIndex>(prod - req_cons_) > static_cast<RingIndex>(prod - rsp_prod_pvt_)) {
        fault_ = RingFault::producer_overflow;
        return fault_;
    }
    visible_req_prod_ = prod;
    return std::nullopt;
}

bool RequestRingCore::request_available() const noexcept {
    return !fault_ && req_cons_ != visible_req_prod_;
}

std::span<std::byte> RequestRingCore::slot(RingIndex index) const noexcept {
    const std::size_t i = index & (size_ - 1);
    return shared_.subspan(ring_offset_ + i * geometry_.entry_size, geometry_.entry_size);
}

void RequestRingCore::take_request(std::span<std::byte> dst) noexcept {
    // The one and only read of this request's bytes (RING_COPY_REQUEST).
    copy_from_shared(dst, slot(req_cons_).first(dst.size()));
    ++req_cons_;
}

void RequestRingCore::put_response(std::span<const std::byte> rsp) noexcept {
    copy_to_shared(slot(rsp_prod_pvt_).first(rsp.size()), rsp);
    ++rsp_prod_pvt_;
}

bool RequestRingCore::push_responses() noexcept {
    if (fault_ || rsp_prod_pvt_ == published_rsp_prod_) {
        return false;
    }
    // old comes from our private copy: the guest could rewrite rsp_prod in shared memory,
    // and would then only be lying to itself about notifications.
    const RingIndex old_prod = published_rsp_prod_;
    const RingIndex new_prod = rsp_prod_pvt_;
    // seq_cst store: release (the frontend sees the responses before the index, the
    // xen_wmb()) and, paired with the seq_cst load below, the xen_mb(): the frontend sees
    // the new rsp_prod before we read rsp_event, otherwise a frontend that just armed
    // rsp_event and found no responses would sleep while we decide not to notify.
    rsp_prod_.store_seq_cst(new_prod);
    published_rsp_prod_ = new_prod;
    const RingIndex event = rsp_event_.load_seq_cst();
    return static_cast<RingIndex>(new_prod - event) < static_cast<RingIndex>(new_prod - old_prod);
}

bool RequestRingCore::has_unconsumed(RingIndex prod) const noexcept {
    // XEN_RING_NR_UNCONSUMED_REQUESTS: bounded by the free response slots, so a garbage
    // producer reads as "work to do" and the next fetch_producer() reports the fault.
    const RingIndex requests = prod - req_cons_;
    const RingIndex room = size_ - static_cast<RingIndex>(req_cons_ - rsp_prod_pvt_);
    return (requests < room ? requests : room) != 0;
}

bool RequestRingCore::final_check_for_requests() noexcept {
    if (fault_) {
        return false;
    }
    // Acquire for the same reason as in fetch_producer(): what we see here is processed next.
    if (has_unconsumed(req_prod_.load_acquire())) {
        return true;
    }
    // Mirror image of push_responses(): publish req_event, then re-read req_prod, with a
    // full barrier between (seq_cst on both) so a request pushed concurrently is either seen
    // here or its producer sees our req_event and notifies us.
    req_event_.store_seq_cst(req_cons_ + 1);
    return has_unconsumed(req_prod_.load_seq_cst());
}

} // namespace twofold::rings
