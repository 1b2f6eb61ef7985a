#pragma once
// A guest's framebuffer, mapped read-only from the domid the toolstack assigned to the
// device (never one the guest names). The two-level page directory is resolved through a
// private copy of the directory pages, which are unmapped before the framebuffer itself is
// mapped; the framebuffer mapping is released when this object goes, on every path.
#include <cstddef>
#include <span>

#include "twofold/display/geometry.h"
#include "twofold/xen/mapped_pages.h"
#include "twofold/xen/memory.h"

namespace twofold::display {

class GuestFramebuffer {
public:
    GuestFramebuffer(xen::MappedPages pages, const FramebufferGeometry& geometry);

    [[nodiscard]] const FramebufferGeometry& geometry() const noexcept { return geometry_; }
    // Guest-writable at any moment: pixels are only ever copied to the screen, never
    // interpreted, and addressing uses the private geometry, never a value read from here.
    [[nodiscard]] std::span<const std::byte> pixels() const noexcept { return pixels_; }

private:
    xen::MappedPages pages_;
    FramebufferGeometry geometry_;
    std::span<const std::byte> pixels_;
};

// Maps the framebuffer described by a validated geometry. A frame the guest does not own, or
// any other mapping failure, is an Error (the Xen call's exception does not escape).
Result<GuestFramebuffer> map_guest_framebuffer(xen::ForeignMemory& memory, xen::DomId domid,
                                               const FramebufferGeometry& geometry);

} // namespace twofold::display
