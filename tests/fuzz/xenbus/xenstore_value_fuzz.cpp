// Fuzzes every parser of guest-written xenstore values. The first byte picks the parser, the
// rest is the untrusted value. Beyond "does not crash": whatever a parser accepts must be
// the canonical text of the value it returns (no second spelling of any number or name).
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "twofold/xenbus/xenstore_values.h"

namespace {

using namespace twofold::xenbus;

void require(bool condition) {
    if (!condition) std::abort();
}

template <class T>
void check_number(const Result<T>& parsed, std::string_view input) {
    if (parsed.ok()) require(std::to_string(parsed.value()) == input);
    else require(!parsed.error().message.empty() && parsed.error().message.size() < 200);
}

constexpr std::array<std::string_view, 3> kNames{"portrait", "landscape", "auto"};

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);
    switch (data[0] % 11) {
    case 0: check_number(parse_unsigned<std::uint64_t>(input, 0, UINT64_MAX), input); break;
    case 1: check_number(parse_unsigned<std::uint16_t>(input, 3, 1000), input); break;
    case 2: check_number(parse_grant_ref(input), input); break;
    case 3: check_number(parse_port(input), input); break;
    case 4: check_number(parse_domid(input), input); break;
    case 5: check_number(parse_devid(input), input); break;
    case 6: check_number(parse_ring_page_order(input), input); break;
    case 7: {
        auto state = parse_state(input);
        if (state.ok()) require(to_xenstore(state.value()) == input);
        break;
    }
    case 8: {
        auto flag = parse_bool(input);
        if (flag.ok()) require(input == (flag.value() ? "1" : "0"));
        break;
    }
    case 9: {
        auto protocol = parse_protocol(input);
        if (protocol.ok()) require(to_string(protocol.value()) == input);
        break;
    }
    default: {
        auto chosen = parse_name_in_set(input, kNames);
        if (chosen.ok()) require(chosen.value().name == input && kNames[chosen.value().index] == input);
        break;
    }
    }
    return 0;
}
