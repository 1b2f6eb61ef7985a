#pragma once
// What an ill-behaved guest can do to a ring, as a value. A fault is final for that ring:
// the caller disconnects that one frontend (and only it) and logs describe(fault).
#include <cstdint>
#include <string_view>

namespace twofold::rings {

enum class RingFault : std::uint8_t {
    // The guest's producer index claims more unconsumed entries (or bytes) than the ring
    // holds (RING_REQUEST_PROD_OVERFLOW).
    producer_overflow,
    // The guest's consumer index claims it consumed entries (or bytes) we never produced,
    // or lags so far behind that our own producer index would be invalid.
    consumer_overrun,
};

[[nodiscard]] std::string_view describe(RingFault fault) noexcept;

} // namespace twofold::rings
