#pragma once
// Guest framebuffers in private memory, for compositor tests that need no hypervisor.
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "twofold/display/guest_framebuffer.h"

namespace twofold::display::testing {

inline FramebufferGeometry packed_geometry(std::uint32_t width, std::uint32_t height) {
    FramebufferGeometry geometry;
    geometry.width = width;
    geometry.height = height;
    geometry.line_length = width * kBytesPerPixel;
    geometry.mem_length = std::size_t{geometry.line_length} * height;
    geometry.frame_count = (geometry.mem_length + xen::kPageSize - 1) / xen::kPageSize;
    geometry.directory_page_count = 1;
    geometry.directory[0] = 1;
    return geometry;
}

// The "guest" writes pixels(); the compositor reads them through framebuffer().
class PrivateFramebuffer {
public:
    explicit PrivateFramebuffer(const FramebufferGeometry& geometry)
        : memory_(geometry.mem_length / 4 + 1, 0),
          framebuffer_(xen::MappedPages(std::as_writable_bytes(std::span{memory_}), [](std::span<std::byte>) {}),
                       geometry) {}

    [[nodiscard]] const GuestFramebuffer& framebuffer() const noexcept { return framebuffer_; }
    [[nodiscard]] const FramebufferGeometry& geometry() const noexcept { return framebuffer_.geometry(); }
    void set(std::uint32_t x, std::uint32_t y, std::uint32_t xrgb) {
        memory_.at((std::size_t{y} * geometry().line_length) / 4 + x) = xrgb;
    }
    void fill(std::uint32_t xrgb) {
        for (std::uint32_t y = 0; y < geometry().height; ++y)
            for (std::uint32_t x = 0; x < geometry().width; ++x) set(x, y, xrgb);
    }

private:
    std::vector<std::uint32_t> memory_;
    GuestFramebuffer framebuffer_;
};

} // namespace twofold::display::testing
