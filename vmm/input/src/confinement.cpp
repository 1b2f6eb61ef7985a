#include "twofold/input/confinement.h"

#include <sys/ioctl.h>

// The Linux Xen device headers need the fixed-width types and Xen's own types first.
#include <cstddef>
#include <cstdint>
#include <xen/xen.h>
#include <xen/sys/evtchn.h>

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

confine::SyscallAllowlist input_owner_allowlist() {
    confine::SyscallAllowlist list("input-owner");
    list.merge(confine::base_allowlist());
    list.deny("ioctl");
    list.allow_ioctl_family(kEvdevQueryMask, kEvdevQueryValue);
    return list;
}

confine::SyscallAllowlist vkbd_writer_allowlist() {
    confine::SyscallAllowlist list("vkbd-writer");
    list.merge(confine::base_allowlist());
    list.deny("ioctl");
    // Not the grant device's requests: a restricted writer has none (restrict_to cut it).
    std::set<std::uint64_t> requests{IOCTL_EVTCHN_BIND_INTERDOMAIN, IOCTL_EVTCHN_UNBIND, IOCTL_EVTCHN_NOTIFY};
    requests.merge(confine::xen_foreign_map_ioctls());
    list.allow_ioctls(requests);
    return list;
}

} // namespace twofold::input
