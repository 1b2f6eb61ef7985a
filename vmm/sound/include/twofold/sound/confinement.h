#pragma once
// The sound backend's seccomp allowlist: base_allowlist() with ioctl narrowed to the Xen ring
// requests (event channels, grant mapping: rings and sample buffers are all granted, nothing
// is foreign-mapped) and ALSA's PCM requests (type 'A': hw_params, prepare, writei/readi,
// drop...; the control device 'U' is used only while opening, before confinement).
#include "twofold/confine/confine.h"

namespace twofold::sound {

inline constexpr std::uint64_t kAlsaPcmIoctlMask = 0x0000FF00;
inline constexpr std::uint64_t kAlsaPcmIoctlValue = std::uint64_t{'A'} << 8;

confine::SyscallAllowlist sound_allowlist();

} // namespace twofold::sound
