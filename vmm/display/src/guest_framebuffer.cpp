#include "twofold/display/guest_framebuffer.h"

#include <exception>
#include <string>
#include <utility>
#include <vector>

#include "twofold/rings/shared_memory.h"
#include "twofold/xen/error.h"

namespace twofold::display {

GuestFramebuffer::GuestFramebuffer(xen::MappedPages pages, const FramebufferGeometry& geometry)
    : pages_(std::move(pages)), geometry_(geometry), pixels_(pages_.bytes().first(geometry_.mem_length)) {}

Result<GuestFramebuffer> map_guest_framebuffer(xen::ForeignMemory& memory, xen::DomId domid,
                                               const FramebufferGeometry& geometry) {
    try {
        std::vector<std::byte> directory_copy(geometry.frame_count * kDirectoryEntryBytes);
        {
            const xen::MappedPages directory =
                memory.map(domid, geometry.directory_frames(), xen::Access::ReadOnly);
            // One copy: the guest may rewrite its directory while we read, we look only at ours.
            rings::copy_from_shared(directory_copy, directory.bytes().first(directory_copy.size()));
        }
        auto frames = parse_frame_list(directory_copy, geometry);
        if (!frames) return frames.error();
        xen::MappedPages pixels = memory.map(domid, frames.value(), xen::Access::ReadOnly);
        if (pixels.size() < geometry.mem_length) {
            return Error{"framebuffer mapping shorter than mem_length"};
        }
        return GuestFramebuffer(std::move(pixels), geometry);
    } catch (const xen::XenError& error) {
        return Error{std::string("mapping the framebuffer failed: ") + error.what()};
    }
}

} // namespace twofold::display
