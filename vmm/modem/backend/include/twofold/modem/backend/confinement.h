#pragma once
// What twofold-modem-backend may still do once confined (vmm/confine): the base allowlist
// (Asio, spdlog, memory, descriptors already open) with ioctl narrowed to the grant mapping and
// event channels of its persona consoles, and FIONBIO. No open, socket, clone or exec: the
// modem line, the focus link, the Xen handles and the xenstore watch thread exist before.
#include <cstdint>
#include <set>

#include "twofold/confine/confine.h"

namespace twofold::modem::backend {

[[nodiscard]] std::set<std::uint64_t> modem_ioctls();
[[nodiscard]] confine::SyscallAllowlist modem_allowlist();

}  // namespace twofold::modem::backend
