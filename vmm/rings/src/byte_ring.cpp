#include "twofold/rings/byte_ring.h"

#include <cstdint>
#include <stdexcept>

extern "C" {
#include <xen/io/console.h>
}

namespace twofold::rings {
namespace {

using Index = std::uint32_t; // XENCONS_RING_IDX

std::span<std::byte> data_area(std::span<std::byte> shared, const ByteRingGeometry& g) {
    const bool power_of_two = g.data_size != 0 && (g.data_size & (g.data_size - 1)) == 0;
    if (!power_of_two || g.data_size > (std::size_t{1} << 31) || !fits(shared.size(), g.data_offset, g.data_size) ||
        !fits(shared.size(), g.cons_offset, sizeof(Index)) || !fits(shared.size(), g.prod_offset, sizeof(Index)) ||
        (reinterpret_cast<std::uintptr_t>(shared.data()) + g.cons_offset) % alignof(Index) != 0 ||
        (reinterpret_cast<std::uintptr_t>(shared.data()) + g.prod_offset) % alignof(Index) != 0) {
        throw std::invalid_argument("byte ring geometry does not fit the mapping");
    }
    return shared.subspan(g.data_offset, g.data_size);
}

std::size_t smaller(std::size_t a, std::size_t b) noexcept { return a < b ? a : b; }

} // namespace

ByteRingReader::ByteRingReader(std::span<std::byte> shared, ByteRingGeometry geometry)
    : data_(data_area(shared, geometry)),
      cons_(shared.data() + geometry.cons_offset),
      prod_(shared.data() + geometry.prod_offset),
      // The guest may have produced before we connected; whatever it left in out_cons is
      // where we start. It is validated against out_prod like everything else.
      cons_pvt_(cons_.load_acquire()) {}

ByteReadResult ByteRingReader::read(std::span<std::byte> dst) noexcept {
    ByteReadResult result;
    if (fault_) {
        result.fault = fault_;
        return result;
    }
    // Acquire: bytes the guest wrote before out_prod are visible to our copy (xen_rmb()).
    const Index prod = prod_.load_acquire();
    const Index available = prod - cons_pvt_;
    if (available > data_.size()) {
        fault_ = RingFault::producer_overflow;
        result.fault = fault_;
        return result;
    }
    const std::size_t size = data_.size();
    std::size_t todo = smaller(available, dst.size());
    while (todo > 0) {
        const std::size_t at = cons_pvt_ & (size - 1);
        const std::size_t chunk = smaller(todo, size - at); // up to the end of the data area
        copy_from_shared(dst.subspan(result.bytes, chunk), data_.subspan(at, chunk));
        result.bytes += chunk;
        todo -= chunk;
        cons_pvt_ += static_cast<Index>(chunk);
    }
    if (result.bytes > 0) {
        // Release: our copy is complete before the guest sees the space as free and
        // overwrites it (xen_mb() before out_cons in xenconsoled).
        cons_.store_release(cons_pvt_);
    }
    result.more_pending = prod != cons_pvt_ || prod_.load_acquire() != cons_pvt_;
    return result;
}

ByteRingWriter::ByteRingWriter(std::span<std::byte> shared, ByteRingGeometry geometry)
    : data_(data_area(shared, geometry)),
      cons_(shared.data() + geometry.cons_offset),
      prod_(shared.data() + geometry.prod_offset),
      prod_pvt_(prod_.load_acquire()) {}

ByteWriteResult ByteRingWriter::write(std::span<const std::byte> src) noexcept {
    ByteWriteResult result;
    if (fault_) {
        result.fault = fault_;
        return result;
    }
    // Acquire: the guest finished reading the bytes it released before we overwrite them.
    const Index cons = cons_.load_acquire();
    const Index used = prod_pvt_ - cons;
    if (used > data_.size()) {
        fault_ = RingFault::consumer_overrun;
        result.fault = fault_;
        return result;
    }
    const std::size_t size = data_.size();
    std::size_t todo = smaller(size - used, src.size());
    while (todo > 0) {
        const std::size_t at = prod_pvt_ & (size - 1);
        const std::size_t chunk = smaller(todo, size - at);
        copy_to_shared(data_.subspan(at, chunk), src.subspan(result.written, chunk));
        result.written += chunk;
        todo -= chunk;
        prod_pvt_ += static_cast<Index>(chunk);
    }
    if (result.written > 0) {
        // Release: the bytes are in the ring before the guest sees the new in_prod (xen_wmb()).
        prod_.store_release(prod_pvt_);
    }
    return result;
}

static_assert(ConsoleRing::kIn.data_offset == offsetof(xencons_interface, in));
static_assert(ConsoleRing::kIn.data_size == sizeof(xencons_interface::in));
static_assert(ConsoleRing::kIn.cons_offset == offsetof(xencons_interface, in_cons));
static_assert(ConsoleRing::kIn.prod_offset == offsetof(xencons_interface, in_prod));
static_assert(ConsoleRing::kOut.data_offset == offsetof(xencons_interface, out));
static_assert(ConsoleRing::kOut.data_size == sizeof(xencons_interface::out));
static_assert(ConsoleRing::kOut.cons_offset == offsetof(xencons_interface, out_cons));
static_assert(ConsoleRing::kOut.prod_offset == offsetof(xencons_interface, out_prod));
static_assert(ConsoleRing::kInterfaceSize == sizeof(xencons_interface));

ConsoleRing::ConsoleRing(std::span<std::byte> shared) : out_(shared, kOut), in_(shared, kIn) {}

std::optional<RingFault> ConsoleRing::fault() const noexcept {
    return out_.fault() ? out_.fault() : in_.fault();
}

} // namespace twofold::rings
