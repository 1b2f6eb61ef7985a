#include "twofold/sound/confinement.h"

#include <sys/ioctl.h>

namespace twofold::sound {

confine::SyscallAllowlist sound_allowlist() {
    confine::SyscallAllowlist list("sound");
    list.merge(confine::base_allowlist());
    list.deny("ioctl");
    auto requests = confine::xen_ring_ioctls();
    // Asio may switch a descriptor to non-blocking on its first asynchronous operation.
    requests.insert(FIONBIO);
    list.allow_ioctls(requests);
    list.allow_ioctl_family(kAlsaPcmIoctlMask, kAlsaPcmIoctlValue);
    return list;
}

} // namespace twofold::sound
