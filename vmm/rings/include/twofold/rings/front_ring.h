#pragma once
// Frontend side of a DEFINE_RING_TYPES ring, for simulated guests on the host (loopback
// tests, fuzzing harnesses, benchmarks). Real frontends live in the guest kernels; this one
// follows ring.h the same way so that backends are exercised against the real protocol.
// It still distrusts the backend's rsp_prod (RING_RESPONSE_PROD_OVERFLOW).
#include <cstddef>
#include <cstring>
#include <optional>
#include <span>
#include <stdexcept>
#include <type_traits>

#include "twofold/rings/back_ring.h"

namespace twofold::rings {

template <typename Req, typename Rsp>
class FrontRing {
public:
    using Entry = typename BackRing<Req, Rsp>::Entry;

    // Initialises the shared header (SHARED_RING_INIT): the frontend owns initialisation.
    explicit FrontRing(std::span<std::byte> shared)
        : shared_(shared),
          size_(BackRing<Req, Rsp>::entries_for(shared.size())),
          req_prod_(shared.data() + sring::kReqProd),
          req_event_(shared.data() + sring::kReqEvent),
          rsp_prod_(shared.data() + sring::kRspProd),
          rsp_event_(shared.data() + sring::kRspEvent) {
        if (size_ == 0) {
            throw std::invalid_argument("ring mapping too small for one entry");
        }
        zero_shared(shared_.first(sring::kHeaderSize));
        req_event_.store_release(1);
        rsp_event_.store_release(1);
    }

    [[nodiscard]] RingIndex size() const noexcept { return size_; }
    [[nodiscard]] RingIndex free_requests() const noexcept { return size_ - (req_prod_pvt_ - rsp_cons_); }

    // Queues a request privately; false when the ring is full (RING_FULL).
    bool put_request(const Req& request) noexcept {
        if (free_requests() == 0) {
            return false;
        }
        copy_to_shared(slot(req_prod_pvt_).first(sizeof(Req)), std::as_bytes(std::span{&request, 1}));
        ++req_prod_pvt_;
        return true;
    }

    // RING_PUSH_REQUESTS_AND_CHECK_NOTIFY: true when the backend asked to be notified.
    [[nodiscard]] bool push_requests() noexcept {
        const RingIndex old_prod = published_req_prod_;
        const RingIndex new_prod = req_prod_pvt_;
        if (old_prod == new_prod) {
            return false;
        }
        // seq_cst store then seq_cst load: release for the slots, and the full barrier the
        // hold-off protocol needs before reading req_event (see RequestRingCore).
        req_prod_.store_seq_cst(new_prod);
        published_req_prod_ = new_prod;
        const RingIndex event = req_event_.load_seq_cst();
        return static_cast<RingIndex>(new_prod - event) < static_cast<RingIndex>(new_prod - old_prod);
    }

    // Takes the next published response, if any; nullopt when none. Sets *fault (and stops)
    // when the backend's rsp_prod is impossible.
    [[nodiscard]] std::optional<Rsp> take_response(std::optional<RingFault>& fault) noexcept {
        const RingIndex prod = rsp_prod_.load_acquire(); // acquire: response slots before index
        if (static_cast<RingIndex>(prod - rsp_cons_) > size_) {
            fault = RingFault::producer_overflow;
            return std::nullopt;
        }
        if (prod == rsp_cons_) {
            return std::nullopt;
        }
        Rsp response{};
        copy_from_shared(std::as_writable_bytes(std::span{&response, 1}), slot(rsp_cons_).first(sizeof(Rsp)));
        ++rsp_cons_;
        return response;
    }

    // RING_FINAL_CHECK_FOR_RESPONSES: true when responses are waiting; otherwise arms
    // rsp_event and checks again (no lost wake-up).
    [[nodiscard]] bool final_check_for_responses() noexcept {
        if (rsp_prod_.load_acquire() != rsp_cons_) {
            return true;
        }
        rsp_event_.store_seq_cst(rsp_cons_ + 1);
        return rsp_prod_.load_seq_cst() != rsp_cons_;
    }

private:
    [[nodiscard]] std::span<std::byte> slot(RingIndex index) const noexcept {
        const std::size_t offset = BackRing<Req, Rsp>::kRingOffset + (index & (size_ - 1)) * sizeof(Entry);
        return shared_.subspan(offset, sizeof(Entry));
    }

    std::span<std::byte> shared_;
    RingIndex size_;
    SharedIndex req_prod_;
    SharedIndex req_event_;
    SharedIndex rsp_prod_;
    SharedIndex rsp_event_;
    RingIndex req_prod_pvt_ = 0;
    RingIndex published_req_prod_ = 0;
    RingIndex rsp_cons_ = 0;
};

} // namespace twofold::rings
