// The Xen device headers need these first.
#include <sys/ioctl.h>

#include <cstddef>
#include <cstdint>

#include <xen/xen.h>
#include <xen/sys/evtchn.h>
#include <xen/sys/gntdev.h>
#include <xen/sys/privcmd.h>

#include "twofold/confine/confine.h"

namespace twofold::confine {

std::set<std::uint64_t> xen_ring_ioctls() {
    return {
        IOCTL_EVTCHN_BIND_INTERDOMAIN,
        IOCTL_EVTCHN_UNBIND,
        IOCTL_EVTCHN_NOTIFY,
        IOCTL_GNTDEV_MAP_GRANT_REF,
        IOCTL_GNTDEV_UNMAP_GRANT_REF,
        IOCTL_GNTDEV_SET_UNMAP_NOTIFY,
        // Seen on the board: the input backend was killed by this one when a keyboard went away.
        IOCTL_GNTDEV_GET_OFFSET_FOR_VADDR,
    };
}

std::set<std::uint64_t> xen_foreign_map_ioctls() {
    return {IOCTL_PRIVCMD_MMAPBATCH_V2, IOCTL_PRIVCMD_MMAPBATCH};
}

} // namespace twofold::confine
