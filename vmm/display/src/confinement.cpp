#include "twofold/display/confinement.h"

#include <sys/ioctl.h>
#include <xf86drm.h>

// The Linux Xen device headers need the fixed-width types and Xen's own types first.
#include <cstddef>
#include <cstdint>
#include <xen/xen.h>

namespace twofold::display {

std::set<std::uint64_t> xen_ioctls() {
    // The guest's framebuffer is mapped by frame number; the rings by grant.
    auto requests = confine::xen_ring_ioctls();
    requests.merge(confine::xen_foreign_map_ioctls());
    return requests;
}

std::set<std::uint64_t> drm_runtime_ioctls() {
    return {
        DRM_IOCTL_MODE_PAGE_FLIP,    // present
        DRM_IOCTL_MODE_SETCRTC,      // present without flips; restore at exit
        DRM_IOCTL_MODE_DIRTYFB,      // virtio-gpu: send the damage to the host
        DRM_IOCTL_MODE_RMFB,         // exit
        DRM_IOCTL_MODE_DESTROY_DUMB, // exit
    };
}

confine::SyscallAllowlist display_allowlist() {
    confine::SyscallAllowlist list("display");
    list.merge(confine::base_allowlist());
    auto requests = xen_ioctls();
    requests.merge(drm_runtime_ioctls());
    // Asio switches a descriptor to non-blocking (FIONBIO) on its first asynchronous operation;
    // all of ours start before confinement, but a wrapper made later must not be fatal.
    requests.insert(FIONBIO);
    // base_allowlist() allows ioctl outright; this backend takes only its own requests.
    list.deny("ioctl");
    list.allow_ioctls(requests);
    return list;
}

} // namespace twofold::display
