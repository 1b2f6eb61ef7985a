#pragma once
// The only ways ring code touches memory a guest can write at the same time. A guest may
// rewrite any byte of a shared page at any moment, so:
//  - every access is an atomic access (relaxed for payload, acquire/release or seq_cst for
//    indices): the concurrent rewrite is then a race on values, which the protocol tolerates
//    because we copy once and validate the copy, never undefined behaviour in our process;
//  - payload is read exactly once, into private memory (copy_from_shared), and only the
//    private copy is ever looked at again (no double fetch, XSA-155).
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <span>

namespace twofold::rings {

// Copies src (shared) into dst (private) with one relaxed atomic load per word. The guest
// may rewrite src meanwhile: dst then holds a mix of old and new bytes, which is fine
// because callers validate dst, and nothing reads src again. Sizes must match.
void copy_from_shared(std::span<std::byte> dst, std::span<const std::byte> src) noexcept;

// Copies private bytes into shared memory with relaxed atomic stores; ordering towards the
// guest comes from the release store of the producer index that publishes them.
void copy_to_shared(std::span<std::byte> dst, std::span<const std::byte> src) noexcept;

// Sets shared bytes to zero (used for the unused tail of a slot).
void zero_shared(std::span<std::byte> dst) noexcept;

// A 32-bit ring index that lives in a shared page. Which memory order to use is part of the
// protocol, so every call site names it (and says why).
class SharedIndex {
public:
    // word must be 4-byte aligned and inside a mapping that outlives this object.
    explicit SharedIndex(std::byte* word) noexcept;

    // Guest-written producer: acquire, so that the slots it published are visible to the
    // copies we make after this load.
    [[nodiscard]] std::uint32_t load_acquire() const noexcept;
    // Our producer/consumer index: release, so that our slot writes (or our slot reads, for
    // a consumer index) happen before the guest can see the new index.
    void store_release(std::uint32_t value) const noexcept;
    // The notification hold-off protocol is a Dekker pattern (store our index, then load the
    // peer's event index; the peer does the mirror image). That needs store->load ordering,
    // which only sequentially consistent operations (a full barrier, xen_mb()) give.
    [[nodiscard]] std::uint32_t load_seq_cst() const noexcept;
    void store_seq_cst(std::uint32_t value) const noexcept;
    // Reading a value only to take a snapshot for which nothing else needs ordering.
    [[nodiscard]] std::uint32_t load_relaxed() const noexcept;

private:
    std::uint32_t* word_;
};

// True when [offset, offset + length) lies inside a region of size bytes, without overflow.
[[nodiscard]] constexpr bool fits(std::size_t size, std::size_t offset, std::size_t length) noexcept {
    return offset <= size && length <= size - offset;
}

} // namespace twofold::rings
