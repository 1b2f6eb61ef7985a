#pragma once
// The type-independent half of a backend request/response ring (xen/io/ring.h, the "back"
// side of DEFINE_RING_TYPES): index bookkeeping, validation, barriers and notification
// hold-off, on raw slots. BackRing<Req, Rsp> (back_ring.h) adds the types and the loop.
//
// Protocol summary (ring.h is the spec): the frontend writes requests into slots and then
// req_prod; we copy each request out once, write the response into the slot at our private
// rsp_prod_pvt and publish rsp_prod. Indices are free-running 32-bit counters; the slot is
// index & (size - 1).
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "twofold/rings/fault.h"
#include "twofold/rings/shared_memory.h"

namespace twofold::rings {

using RingIndex = std::uint32_t; // RING_IDX

// Offsets of struct NAME_sring's header (identical for every DEFINE_RING_TYPES ring).
namespace sring {
inline constexpr std::size_t kReqProd = 0;
inline constexpr std::size_t kReqEvent = 4;
inline constexpr std::size_t kRspProd = 8;
inline constexpr std::size_t kRspEvent = 12;
inline constexpr std::size_t kHeaderSize = 64; // 4 indices, pvt (4), __pad (44)

// offsetof(struct NAME_sring, ring) for an entry union of the given alignment.
[[nodiscard]] constexpr std::size_t ring_offset(std::size_t entry_align) noexcept {
    return (kHeaderSize + entry_align - 1) / entry_align * entry_align;
}
// __CONST_RING_SIZE: as many entries as fit, rounded down to a power of two; 0 if none fit.
[[nodiscard]] constexpr RingIndex entries_for(std::size_t bytes, std::size_t entry_size,
                                              std::size_t entry_align) noexcept {
    const std::size_t offset = ring_offset(entry_align);
    if (entry_size == 0 || bytes < offset) {
        return 0;
    }
    std::size_t n = (bytes - offset) / entry_size;
    if (n > (std::size_t{1} << 31)) {
        n = std::size_t{1} << 31;
    }
    std::size_t power = 1;
    while (power * 2 <= n) {
        power *= 2;
    }
    return n == 0 ? 0 : static_cast<RingIndex>(power);
}
} // namespace sring

struct SlotGeometry {
    std::size_t entry_size;  // sizeof(union NAME_sring_entry)
    std::size_t entry_align; // alignof(union NAME_sring_entry)
};

class RequestRingCore {
public:
    // shared: the mapped ring page(s), 1 << ring-page-order pages; must outlive this object.
    // start: the index both private indices start from (BACK_RING_ATTACH; 0 on a fresh ring).
    // Throws std::invalid_argument if not even one slot fits or shared is misaligned: both
    // are bugs in our own mapping code, never guest input.
    RequestRingCore(std::span<std::byte> shared, SlotGeometry geometry, RingIndex start = 0);

    [[nodiscard]] RingIndex size() const noexcept { return size_; }
    [[nodiscard]] std::optional<RingFault> fault() const noexcept { return fault_; }
    [[nodiscard]] RingIndex request_consumer() const noexcept { return req_cons_; }
    [[nodiscard]] RingIndex response_producer() const noexcept { return rsp_prod_pvt_; }

    // Reads req_prod once and validates it. After a fault the ring stays faulted and every
    // later call returns the same fault without touching shared memory.
    [[nodiscard]] std::optional<RingFault> fetch_producer() noexcept;
    // A validated, fetched request not yet taken.
    [[nodiscard]] bool request_available() const noexcept;
    // Copies the next request (precondition: request_available()) into dst and consumes it.
    void take_request(std::span<std::byte> dst) noexcept;
    // Writes one response at the private response producer (not yet visible to the guest).
    void put_response(std::span<const std::byte> rsp) noexcept;
    // RING_PUSH_RESPONSES_AND_CHECK_NOTIFY: publishes the responses put so far; true when
    // the frontend asked to be notified (rsp_event) for one of them.
    [[nodiscard]] bool push_responses() noexcept;
    // RING_FINAL_CHECK_FOR_REQUESTS: true when requests are waiting; otherwise arms
    // req_event so that the frontend's next request notifies us, and checks again to close
    // the race with a request pushed in between (no lost wake-up).
    [[nodiscard]] bool final_check_for_requests() noexcept;

private:
    [[nodiscard]] bool has_unconsumed(RingIndex prod) const noexcept;
    [[nodiscard]] std::span<std::byte> slot(RingIndex index) const noexcept;

    std::span<std::byte> shared_;
    SlotGeometry geometry_;
    std::size_t ring_offset_;
    RingIndex size_;
    SharedIndex req_prod_;
    SharedIndex req_event_;
    SharedIndex rsp_prod_;
    SharedIndex rsp_event_;
    // Private indices: the copies in shared memory are written by us but a guest can
    // scribble on them, so we never read them back.
    RingIndex req_cons_;
    RingIndex rsp_prod_pvt_;
    RingIndex published_rsp_prod_;
    RingIndex visible_req_prod_; // last validated req_prod
    std::optional<RingFault> fault_;
};

} // namespace twofold::rings
