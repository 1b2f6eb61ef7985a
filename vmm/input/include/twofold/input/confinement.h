#pragma once
// The input backend's seccomp allowlist: base_allowlist() with ioctl narrowed to what the
// running backend issues after confinement.
#include "twofold/confine/confine.h"

namespace twofold::input {

// EVIOCG* with _IOC_READ: every evdev query (libevdev's resynchronisation after SYN_DROPPED
// sizes them by the device's key and slot counts, so they are allowed as a family).
inline constexpr std::uint64_t kEvdevQueryMask = 0xC000FF00;
inline constexpr std::uint64_t kEvdevQueryValue = (2ULL << 30) | (std::uint64_t{'E'} << 8);

// The single-process backend: evdev queries, and each frontend's event channel and grant.
confine::SyscallAllowlist input_allowlist();
// The input owner: evdev queries only (it holds no Xen handle).
confine::SyscallAllowlist input_owner_allowlist();
// A per-persona vkbd writer: its frontend's event channel and the shared page mapped by frame
// number (privcmd, restricted to its domain before confinement); no grant device, no evdev.
confine::SyscallAllowlist vkbd_writer_allowlist();

} // namespace twofold::input
