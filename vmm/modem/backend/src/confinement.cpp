#include "twofold/modem/backend/confinement.h"

#include <sys/ioctl.h>

// The Linux Xen device headers need the fixed-width types and Xen's own types first.
#include <cstddef>
#include <cstdint>
#include <xen/xen.h>

namespace twofold::modem::backend {

std::set<std::uint64_t> modem_ioctls() {
  // libxengnttab (each persona's console page is a grant: hvc_xen's ring-ref) and
  // libxenevtchn (the console's port).
  auto requests = confine::xen_ring_ioctls();
  // Asio may switch a descriptor to non-blocking when it first waits on it.
  requests.insert(FIONBIO);
  return requests;
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
