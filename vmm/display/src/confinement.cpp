#include "twofold/display/confinement.h"

#include <sys/ioctl.h>
#include <xf86drm.h>

// The Linux Xen device headers need the fixed-width types and Xen's own types first.
#include <cstddef>
#include <cstdint>
#include <xen/xen.h>
#include <xen/sys/evtchn.h>
#include <xen/sys/gntdev.h>
#include <xen/sys/privcmd.h>

namespace twofold::display {

std::set<std::uint64_t> xen_ioctls() {
    return {
        // libxenforeignmemory: map a guest's framebuffer and shared page (V1 is its fallback).
        IOCTL_PRIVCMD_MMAPBATCH_V2,
        IOCTL_PRIVCMD_MMAPBATCH,
        // libxenevtchn: the per-frontend event channel.
        IOCTL_EVTCHN_BIND_INTERDOMAIN,
        IOCTL_EVTCHN_UNBIND,
        IOCTL_EVTCHN_NOTIFY,
        // libxengnttab: the runtime's grant mapper (vfb maps by frame number, other rings grant).
        IOCTL_GNTDEV_MAP_GRANT_REF,
        IOCTL_GNTDEV_UNMAP_GRANT_REF,
        IOCTL_GNTDEV_SET_UNMAP_NOTIFY,
    };
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
