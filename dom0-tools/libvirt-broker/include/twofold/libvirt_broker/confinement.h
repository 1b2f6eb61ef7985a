#pragma once
// What twofold-libvirt-broker may do once its libvirt connection is open (vmm/confine).
#include "twofold/confine/confine.h"

namespace twofold::libvirt_broker {

// base_allowlist() plus what libvirt's client calls need on an open connection: the remote
// driver (the board: xen:///system through libvirtd's socket) and the in-process test driver
// (host tests). No open/openat, no socket/connect, no exec: a compromised broker can talk
// only to the libvirtd it is connected to and to the manager.
[[nodiscard]] confine::SyscallAllowlist broker_allowlist();

} // namespace twofold::libvirt_broker
