#include "twofold/libvirt_broker/confinement.h"

#include <sys/ioctl.h>

namespace twofold::libvirt_broker {

confine::SyscallAllowlist broker_allowlist() {
    auto list = confine::base_allowlist();
    // No device control: the broker holds no device, only two sockets. Asio makes the link
    // non-blocking with FIONBIO on its first operation.
    list.allow_ioctls({FIONBIO});
    return list;
}

} // namespace twofold::libvirt_broker
