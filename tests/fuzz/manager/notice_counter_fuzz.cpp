// Input: a persona's data/twofold-notice value as the guest wrote it. A value accepted as a
// counter must be exactly its decimal spelling (an optional trailing newline aside): nothing
// else of the guest's text can pass as a notice.
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "twofold/manager/persona_notices.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view value(reinterpret_cast<const char*>(data), size);
    const auto n = twofold::manager::parse_notice_counter(value);
    if (!n) return 0;
    std::string_view digits = value;
    if (!digits.empty() && digits.back() == '\n') digits.remove_suffix(1);
    std::uint64_t again = 0;
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), again);
    if (ec != std::errc{} || end != digits.data() + digits.size() || again != *n) std::abort();
    for (const char c : digits) {
        if (c < '0' || c > '9') std::abort();
    }
    return 0;
}
