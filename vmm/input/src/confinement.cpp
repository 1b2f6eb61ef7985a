#include "twofold/input/confinement.h"

#include <sys/ioctl.h>

// The Linux Xen device headers need the fixed-width types and Xen's own types first.
#include <cstddef>
#include <cstdint>
#include <xen/xen.h>

namespace twofold::input {

confine::SyscallAllowlist input_allowlist() {
    confine::SyscallAllowlist list("input");
    list.merge(confine::base_allowlist());
    // base_allowlist() allows ioctl outright; this backend takes only its own requests. Not
    // EVIOCGRAB (grabbed before confining) nor any evdev write (EVIOCS*), nor privcmd: vkbd
    // pages are grant-mapped, never foreign-mapped.
    list.deny("ioctl");
    // libxenevtchn (each frontend's event channel) and libxengnttab (its shared page).
    list.allow_ioctls(confine::xen_ring_ioctls());
    list.allow_ioctl_family(kEvdevQueryMask, kEvdevQueryValue);
    return list;
}

} // namespace twofold::input
