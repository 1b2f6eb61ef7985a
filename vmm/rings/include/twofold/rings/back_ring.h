#pragma once
// Backend side of a request/response ring defined with DEFINE_RING_TYPES (xen/io/ring.h),
// single- or multi-page. Req and Rsp are the protocol's C structs; the shared layout is
// identical to NAME_sring (tests/rings static_asserts it against the C macros).
//
// Each call to process() handles at most `budget` requests, one response per request:
//   - req_prod is read once and validated; an overflowing one faults the ring (disconnect
//     that frontend; the ring is never read again);
//   - each request is copied once into a private Req; the handler only sees the copy;
//   - each response starts as all-zero bytes (padding included), so nothing of ours the
//     handler did not write reaches the guest (XSA-216). Handlers assign members; assigning
//     a whole struct from a temporary may copy indeterminate padding, so don't.
//   - responses are published with the notification hold-off; result.notify says whether
//     to kick the event channel, result.more_pending whether to schedule another call
//     (budget exhausted or requests arrived meanwhile) instead of waiting for an event.
#include <cstddef>
#include <cstring>
#include <optional>
#include <span>
#include <type_traits>
#include <utility>

#include "twofold/rings/request_ring_core.h"

namespace twofold::rings {

struct ProcessResult {
    std::size_t processed = 0;
    bool more_pending = false;
    bool notify = false;
    std::optional<RingFault> fault;
};

template <typename Req, typename Rsp>
class BackRing {
    static_assert(std::is_trivially_copyable_v<Req> && std::is_standard_layout_v<Req>,
                  "requests are copied bytewise out of shared memory");
    static_assert(std::is_trivially_copyable_v<Rsp> && std::is_standard_layout_v<Rsp>,
                  "responses are copied bytewise into shared memory");

public:
    // union NAME_sring_entry
    union Entry {
        Req req;
        Rsp rsp;
    };
    static constexpr SlotGeometry kGeometry{sizeof(Entry), alignof(Entry)};
    static constexpr std::size_t kRingOffset = sring::ring_offset(alignof(Entry));

    // __CONST_RING_SIZE for a mapping of `bytes` bytes.
    [[nodiscard]] static constexpr RingIndex entries_for(std::size_t bytes) noexcept {
        return sring::entries_for(bytes, sizeof(Entry), alignof(Entry));
    }

    explicit BackRing(std::span<std::byte> shared, RingIndex start = 0) : core_(shared, kGeometry, start) {}

    // handler: void(const Req&, Rsp&) noexcept. It must not throw: a request that fails is
    // answered with an error status, never left without a response.
    template <typename Handler>
    ProcessResult process(std::size_t budget, Handler&& handler) {
        static_assert(std::is_nothrow_invocable_v<Handler&, const Req&, Rsp&>,
                      "ring handlers are noexcept: turn failures into error responses");
        ProcessResult result;
        if (auto fault = core_.fetch_producer()) {
            result.fault = fault;
            return result;
        }
        while (result.processed < budget && core_.request_available()) {
            Req request{};
            core_.take_request(std::as_writable_bytes(std::span{&request, 1}));
            Rsp response;
            std::memset(&response, 0, sizeof response); // padding too: value-init does not promise that
            handler(std::as_const(request), response);
            core_.put_response(std::as_bytes(std::span{&response, 1}));
            ++result.processed;
        }
        result.notify = core_.push_responses();
        result.more_pending = core_.final_check_for_requests();
        return result;
    }

    [[nodiscard]] RingIndex size() const noexcept { return core_.size(); }
    [[nodiscard]] std::optional<RingFault> fault() const noexcept { return core_.fault(); }
    [[nodiscard]] RingIndex request_consumer() const noexcept { return core_.request_consumer(); }
    [[nodiscard]] RingIndex response_producer() const noexcept { return core_.response_producer(); }

private:
    RequestRingCore core_;
};

} // namespace twofold::rings
