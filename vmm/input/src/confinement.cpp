#include "twofold/input/confinement.h"

#include <sys/ioctl.h>

// The Linux Xen device headers need the fixed-width types and Xen's own types first.
#include <cstddef>
#include <cstdint>
#include <xen/xen.h>
#include <xen/sys/evtchn.h>
#include <xen/sys/gntdev.h>

namespace twofold::input {

confine::SyscallAllowlist input_allowlist() {
    confine::SyscallAllowlist list("input");
    list.merge(confine::base_allowlist());
    // base_allowlist() allows ioctl outright; this backend takes only its own requests. Not
    // EVIOCGRAB (grabbed before confining) nor any evdev write (EVIOCS*), nor privcmd: vkbd
    // pages are grant-mapped, never foreign-mapped.
    list.deny("ioctl");
    list.allow_ioctls({
        // libxenevtchn: each frontend's event channel.
        IOCTL_EVTCHN_BIND_INTERDOMAIN,
        IOCTL_EVTCHN_UNBIND,
        IOCTL_EVTCHN_NOTIFY,
        // libxengnttab: each frontend's shared page.
        IOCTL_GNTDEV_MAP_GRANT_REF,
        IOCTL_GNTDEV_UNMAP_GRANT_REF,
        IOCTL_GNTDEV_SET_UNMAP_NOTIFY,
    });
    list.allow_ioctl_family(kEvdevQueryMask, kEvdevQueryValue);
    return list;
}

} // namespace twofold::input
