#pragma once
// What twofold-display-backend may still do once confined (vmm/confine): the base allowlist
// (Asio, spdlog, memory, descriptors already open) with ioctl narrowed to the requests the
// running backend makes: Xen foreign mapping and event channels for its guests, and the DRM
// calls that present a frame and, at exit, restore the CRTC and free the buffers. No open,
// socket, clone or exec: every device, handle and the focus link are opened before.
#include <cstdint>
#include <set>

#include "twofold/confine/confine.h"

namespace twofold::display {

// The Xen device ioctls (privcmd foreign mapping, evtchn, gntdev) the xenbus runtime uses.
[[nodiscard]] std::set<std::uint64_t> xen_ioctls();
// The DRM ioctls DrmTarget uses after open(): flip/set/dirty per frame, remove/destroy at exit.
[[nodiscard]] std::set<std::uint64_t> drm_runtime_ioctls();
[[nodiscard]] confine::SyscallAllowlist display_allowlist();

} // namespace twofold::display
