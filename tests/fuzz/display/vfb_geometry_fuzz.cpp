// Input: the shared page header a guest wrote (kHeaderBytes), then its directory pages.
// Whatever it holds, the parsers return a value or an Error, and an accepted geometry obeys
// every bound the compositor and the mapper rely on.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <span>

#include "twofold/display/compositor.h"
#include "twofold/display/geometry.h"

#define VFB_FUZZ_CHECK(condition)                                                              \
    do {                                                                                       \
        if (!(condition)) {                                                                    \
            std::fprintf(stderr, "invariant violated: %s (%s:%d)\n", #condition, __FILE__, __LINE__); \
            std::abort();                                                                      \
        }                                                                                      \
    } while (false)

using namespace twofold::display;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < kHeaderBytes) return 0;
    const std::span<const std::byte> input{reinterpret_cast<const std::byte*>(data), size};
    constexpr DisplayLimits limits{1080, 2352, std::size_t{16} << 20};
    const auto geometry = parse_framebuffer_header(input.first<kHeaderBytes>(), limits);
    if (!geometry) {
        VFB_FUZZ_CHECK(!geometry.error().message.empty());
        return 0;
    }
    const FramebufferGeometry& g = geometry.value();
    VFB_FUZZ_CHECK(g.width >= 1 && g.width <= limits.max_width);
    VFB_FUZZ_CHECK(g.height >= 1 && g.height <= limits.max_height);
    VFB_FUZZ_CHECK(g.line_length >= g.width * kBytesPerPixel && g.line_length <= kMaxLineLength);
    VFB_FUZZ_CHECK(g.line_length % kBytesPerPixel == 0);
    VFB_FUZZ_CHECK(std::size_t{g.line_length} * g.height <= g.mem_length && g.mem_length <= limits.max_mem_length);
    VFB_FUZZ_CHECK(g.frame_count * twofold::xen::kPageSize >= g.mem_length);
    VFB_FUZZ_CHECK(g.directory_page_count * kFramesPerDirectoryPage >= g.frame_count);
    VFB_FUZZ_CHECK(g.directory_page_count <= kMaxDirectoryPages);
    for (auto gfn : g.directory_frames()) VFB_FUZZ_CHECK(gfn != 0 && gfn <= twofold::xenbus::kMaxGfn);

    const auto frames = parse_frame_list(input.subspan(kHeaderBytes), g);
    if (frames) {
        VFB_FUZZ_CHECK(frames.value().size() == g.frame_count);
        for (auto gfn : frames.value()) VFB_FUZZ_CHECK(gfn != 0 && gfn <= twofold::xenbus::kMaxGfn);
    }
    // Update rectangles taken from the tail clip inside the framebuffer.
    if (size >= kHeaderBytes + 16) {
        UntrustedUpdate update{};
        std::memcpy(&update, data + size - 16, 16);
        const auto rect = clip_update(update, g);
        if (rect && !rect.value().empty()) {
            VFB_FUZZ_CHECK(std::uint64_t{rect.value().x} + rect.value().width <= g.width);
            VFB_FUZZ_CHECK(std::uint64_t{rect.value().y} + rect.value().height <= g.height);
        }
    }
    return 0;
}
