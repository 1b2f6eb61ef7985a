#include "twofold/rings/fault.h"

namespace twofold::rings {

std::string_view describe(RingFault fault) noexcept {
    switch (fault) {
    case RingFault::producer_overflow:
        return "guest producer index is beyond the ring size (ill-behaved frontend)";
    case RingFault::consumer_overrun:
        return "guest consumer index is outside what the backend produced (ill-behaved frontend)";
    }
    return "unknown ring fault";
}

} // namespace twofold::rings
