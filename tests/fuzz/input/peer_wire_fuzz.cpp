// The link between the input owner and a persona's vkbd writer carries bytes either side may
// forge once taken over: both parsers must refuse without crashing, and whatever they accept
// must encode back to exactly the bytes received (no field is read loosely).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

#include "twofold/input/peer_wire.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace twofold::input::peer;
    const auto bytes = std::as_bytes(std::span<const std::uint8_t>(data, size));
    const auto to_writer = parse_to_writer(bytes);
    if (const auto* message = std::get_if<ToWriter>(&to_writer)) {
        const auto again = encode(*message);
        if (again.size() != bytes.size() || !std::equal(again.begin(), again.end(), bytes.begin())) std::abort();
    }
    const auto to_owner = parse_to_owner(bytes);
    if (const auto* message = std::get_if<ToOwner>(&to_owner)) {
        const auto again = encode(*message);
        if (again.size() != bytes.size() || !std::equal(again.begin(), again.end(), bytes.begin())) std::abort();
    }
    return 0;
}
