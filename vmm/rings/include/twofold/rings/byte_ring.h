#pragma once
// Byte rings: a power-of-two data area with free-running 32-bit producer and consumer
// indices in the same shared page (xen/io/console.h, struct xencons_interface). One class
// per direction:
//   ByteRingReader  the guest produces, we consume (console `out`);
//   ByteRingWriter  we produce, the guest consumes (console `in`).
// Both keep private copies of the index they own, validate the guest's index against it on
// every call, and fault (disconnect that guest) on an impossible value.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "twofold/rings/fault.h"
#include "twofold/rings/shared_memory.h"

namespace twofold::rings {

struct ByteRingGeometry {
    std::size_t data_offset;
    std::size_t data_size; // a power of two (MASK_XENCONS_IDX)
    std::size_t cons_offset;
    std::size_t prod_offset;
};

struct ByteReadResult {
    std::size_t bytes = 0;     // copied into the caller's buffer
    bool more_pending = false; // the guest has more bytes: call again (do not wait for an event)
    std::optional<RingFault> fault;
};

struct ByteWriteResult {
    std::size_t written = 0; // the caller queues the rest (bounded) and retries later
    std::optional<RingFault> fault;
};

class ByteRingReader {
public:
    // Takes the guest's current consumer index once as our starting point; throws
    // std::invalid_argument when the geometry does not fit shared (our bug, not the guest's).
    ByteRingReader(std::span<std::byte> shared, ByteRingGeometry geometry);

    // Copies at most dst.size() bytes (the budget for this wake-up) and releases them to
    // the guest.
    [[nodiscard]] ByteReadResult read(std::span<std::byte> dst) noexcept;
    [[nodiscard]] std::optional<RingFault> fault() const noexcept { return fault_; }

private:
    std::span<std::byte> data_;
    SharedIndex cons_;
    SharedIndex prod_;
    std::uint32_t cons_pvt_;
    std::optional<RingFault> fault_;
};

class ByteRingWriter {
public:
    ByteRingWriter(std::span<std::byte> shared, ByteRingGeometry geometry);

    // Writes as much of src as fits without overwriting bytes the guest has not read yet.
    [[nodiscard]] ByteWriteResult write(std::span<const std::byte> src) noexcept;
    [[nodiscard]] std::optional<RingFault> fault() const noexcept { return fault_; }

private:
    std::span<std::byte> data_;
    SharedIndex cons_;
    SharedIndex prod_;
    std::uint32_t prod_pvt_;
    std::optional<RingFault> fault_;
};

// struct xencons_interface, backend side: read the guest's `out`, write the guest's `in`.
class ConsoleRing {
public:
    static constexpr std::size_t kInterfaceSize = 3072 + 16; // sizeof(struct xencons_interface)
    // Offsets in struct xencons_interface (static_asserted against console.h).
    static constexpr ByteRingGeometry kIn{0, 1024, 3072, 3076};     // in[]: backend -> guest
    static constexpr ByteRingGeometry kOut{1024, 2048, 3080, 3084}; // out[]: guest -> backend

    explicit ConsoleRing(std::span<std::byte> shared);

    [[nodiscard]] ByteReadResult read_output(std::span<std::byte> dst) noexcept { return out_.read(dst); }
    [[nodiscard]] ByteWriteResult write_input(std::span<const std::byte> src) noexcept { return in_.write(src); }
    [[nodiscard]] std::optional<RingFault> fault() const noexcept;

private:
    ByteRingReader out_;
    ByteRingWriter in_;
};

} // namespace twofold::rings
