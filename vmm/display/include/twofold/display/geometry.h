#pragma once
// The vfb protocol (xen/io/fbif.h) as the guest fills it: the shared page header (width,
// height, depth, line_length, mem_length) and a two-level page directory: pd[i] is the frame
// number of a directory page, each directory page holds 512 frame numbers of framebuffer
// pages (Linux xen-fbfront: pd[i] = gfn of &gfns[i * 512]). All of it is guest-written, so it
// is parsed from a private copy into a FramebufferGeometry whose every field is bounded and
// consistent before anything is mapped.
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "twofold/xen/types.h"
#include "twofold/xenbus/result.h"
#include "twofold/xenbus/xenstore_values.h"

namespace twofold::display {

using xenbus::Error;
using xenbus::Result;

// Only XRGB8888: the one format Linux xen-fbfront uses and the screen's own.
inline constexpr std::uint32_t kSupportedDepth = 32;
inline constexpr std::uint32_t kBytesPerPixel = 4;
// Hard ceilings, whatever a configuration says (a phone panel is far below them).
inline constexpr std::uint32_t kMaxWidth = 4096;
inline constexpr std::uint32_t kMaxHeight = 4096;
// A row may be padded, but never beyond what the widest allowed mode needs.
inline constexpr std::uint32_t kMaxLineLength = kMaxWidth * kBytesPerPixel;
// 64 MiB: 16384 frames, 32 directory pages.
inline constexpr std::size_t kMaxFramebufferBytes = std::size_t{64} << 20;
// Frame numbers per directory page: 64-bit guests (arm64, x86_64) use 8-byte entries.
inline constexpr std::size_t kDirectoryEntryBytes = 8;
inline constexpr std::size_t kFramesPerDirectoryPage = xen::kPageSize / kDirectoryEntryBytes;
// pd[] is declared with 256 entries but from entry 123 on it overlaps the in ring at offset
// 1024; 32 directory pages cover kMaxFramebufferBytes and stay clear of the rings.
inline constexpr std::size_t kMaxDirectoryPages = 32;
static_assert(kMaxDirectoryPages * kFramesPerDirectoryPage * xen::kPageSize >= kMaxFramebufferBytes);

// Byte offsets in struct xenfb_page for a 64-bit frontend (static_asserted against fbif.h).
inline constexpr std::size_t kWidthOffset = 16;
inline constexpr std::size_t kHeightOffset = 20;
inline constexpr std::size_t kLineLengthOffset = 24;
inline constexpr std::size_t kMemLengthOffset = 28;
inline constexpr std::size_t kDepthOffset = 32;
inline constexpr std::size_t kPageDirectoryOffset = 40;
// The part of the shared page the parser looks at: copy exactly this much, once.
inline constexpr std::size_t kHeaderBytes = kPageDirectoryOffset + kMaxDirectoryPages * kDirectoryEntryBytes;

// What the backend allows one guest (the content area under the indicator strip, and a
// per-guest memory budget from the configuration).
struct DisplayLimits {
    std::uint32_t max_width = 0;
    std::uint32_t max_height = 0;
    std::size_t max_mem_length = 0;
};

// Checked, consistent geometry: width*4 <= line_length <= kMaxLineLength,
// line_length*height <= mem_length <= limits, directory covers ceil(mem_length/4096) frames.
struct FramebufferGeometry {
    std::uint32_t width = 0;
    std::uint32_t height = 0;
    std::uint32_t line_length = 0; // bytes per row
    std::size_t mem_length = 0;
    std::size_t frame_count = 0;   // framebuffer pages
    std::size_t directory_page_count = 0;
    std::array<xen::Gfn, kMaxDirectoryPages> directory{}; // first directory_page_count used

    [[nodiscard]] std::span<const xen::Gfn> directory_frames() const noexcept {
        return std::span{directory}.first(directory_page_count);
    }
    friend bool operator==(const FramebufferGeometry&, const FramebufferGeometry&) = default;
};

// Which xenstore-announced ABI the frontend uses; only 64-bit page directories are served.
Result<xenbus::Protocol> check_protocol(std::string_view untrusted_protocol);

// Parses the private copy of the shared page header. Never throws, never reads beyond it.
Result<FramebufferGeometry> parse_framebuffer_header(std::span<const std::byte, kHeaderBytes> untrusted_header,
                                                     const DisplayLimits& limits);

// Parses the private copy of the directory pages into the frame list (geometry.frame_count
// entries, each non-zero and within kMaxGfn). `untrusted_directory` must hold at least
// frame_count * 8 bytes.
Result<std::vector<xen::Gfn>> parse_frame_list(std::span<const std::byte> untrusted_directory,
                                               const FramebufferGeometry& geometry);

} // namespace twofold::display
