#include "twofold/modem/backend/confinement.h"

#include <sys/ioctl.h>

// The Linux Xen device headers need the fixed-width types and Xen's own types first.
#include <cstddef>
#include <cstdint>
#include <xen/xen.h>
#include <xen/sys/evtchn.h>
#include <xen/sys/gntdev.h>

namespace twofold::modem::backend {

std::set<std::uint64_t> modem_ioctls() {
  return {
      // libxengnttab: each persona's console page is a grant (hvc_xen's ring-ref).
      IOCTL_GNTDEV_MAP_GRANT_REF,
      IOCTL_GNTDEV_UNMAP_GRANT_REF,
      IOCTL_GNTDEV_SET_UNMAP_NOTIFY,
      // libxenevtchn: the console's port.
      IOCTL_EVTCHN_BIND_INTERDOMAIN,
      IOCTL_EVTCHN_UNBIND,
      IOCTL_EVTCHN_NOTIFY,
      // Asio may switch a descriptor to non-blocking when it first waits on it.
      FIONBIO,
  };
}

confine::SyscallAllowlist modem_allowlist() {
  confine::SyscallAllowlist list("modem");
  list.merge(confine::base_allowlist());
  // base_allowlist() allows ioctl outright; this backend takes only its own requests (no
  // privcmd: it maps no foreign frames; no termios: the line is configured before).
  list.deny("ioctl");
  list.allow_ioctls(modem_ioctls());
  return list;
}

}  // namespace twofold::modem::backend
