// Every line either parses into a message whose formatted form parses back to the same line,
// or is refused with a message; nothing throws or crashes.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "twofold/focus/focus_protocol.h"
#include "twofold/focus/line_splitter.h"

using namespace twofold::focus;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view bytes(reinterpret_cast<const char*>(data), size);
    LineSplitter splitter(
        kMaxLineBytes,
        [](std::string_view line) {
            const auto to_manager = parse_to_manager(line);
            if (const auto* message = std::get_if<ToManager>(&to_manager)) {
                const auto again = format(*message);
                if (std::holds_alternative<ParseError>(parse_to_manager(again)) || format(std::get<ToManager>(parse_to_manager(again))) != again) {
                    std::abort();
                }
            }
            const auto to_backend = parse_to_backend(line);
            if (const auto* message = std::get_if<ToBackend>(&to_backend)) {
                const auto again = format(*message);
                if (std::holds_alternative<ParseError>(parse_to_backend(again))) std::abort();
            }
        },
        [](std::size_t) {});
    splitter.feed(bytes);
    return 0;
}
