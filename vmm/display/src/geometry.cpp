#include "twofold/display/geometry.h"

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <limits>
#include <string>

#include <xen/io/fbif.h>

namespace twofold::display {

// Our offsets are those of the C header on a 64-bit ABI, the only one we serve.
static_assert(sizeof(unsigned long) == kDirectoryEntryBytes, "64-bit host ABI expected");
static_assert(offsetof(xenfb_page, width) == kWidthOffset && offsetof(xenfb_page, height) == kHeightOffset &&
              offsetof(xenfb_page, line_length) == kLineLengthOffset &&
              offsetof(xenfb_page, mem_length) == kMemLengthOffset && offsetof(xenfb_page, depth) == kDepthOffset &&
              offsetof(xenfb_page, pd) == kPageDirectoryOffset);
static_assert(kHeaderBytes <= XENFB_IN_RING_OFFS, "the header we read must not overlap the rings");

namespace {

template <typename T>
T load(std::span<const std::byte> bytes, std::size_t offset) noexcept {
    T value{};
    std::memcpy(&value, bytes.data() + offset, sizeof value);
    return value;
}

std::string str(std::size_t value) { return std::to_string(value); }

} // namespace

Result<xenbus::Protocol> check_protocol(std::string_view untrusted_protocol) {
    auto protocol = xenbus::parse_protocol(untrusted_protocol);
    if (!protocol) return protocol.error();
    if (protocol.value() == xenbus::Protocol::X86_32) {
        return Error{"protocol x86_32-abi: 32-bit page directories are not served"};
    }
    return protocol;
}

Result<FramebufferGeometry> parse_framebuffer_header(std::span<const std::byte, kHeaderBytes> untrusted_header,
                                                     const DisplayLimits& limits) {
    const auto width = load<std::int32_t>(untrusted_header, kWidthOffset);
    const auto height = load<std::int32_t>(untrusted_header, kHeightOffset);
    const auto line_length = load<std::uint32_t>(untrusted_header, kLineLengthOffset);
    const auto mem_length = load<std::uint32_t>(untrusted_header, kMemLengthOffset);
    const auto depth = load<std::uint8_t>(untrusted_header, kDepthOffset);

    if (depth != kSupportedDepth) {
        return Error{"depth " + str(depth) + " unsupported (only " + str(kSupportedDepth) + ")"};
    }
    const std::uint32_t max_width = std::min(limits.max_width, kMaxWidth);
    const std::uint32_t max_height = std::min(limits.max_height, kMaxHeight);
    if (width <= 0 || static_cast<std::uint32_t>(width) > max_width) {
        return Error{"width " + std::to_string(width) + " outside [1, " + str(max_width) + "]"};
    }
    if (height <= 0 || static_cast<std::uint32_t>(height) > max_height) {
        return Error{"height " + std::to_string(height) + " outside [1, " + str(max_height) + "]"};
    }
    FramebufferGeometry geometry;
    geometry.width = static_cast<std::uint32_t>(width);
    geometry.height = static_cast<std::uint32_t>(height);
    // width <= 4096 so width * 4 cannot overflow 32 bits.
    const std::uint32_t min_line = geometry.width * kBytesPerPixel;
    if (line_length < min_line || line_length > kMaxLineLength) {
        return Error{"line_length " + str(line_length) + " outside [" + str(min_line) + ", " + str(kMaxLineLength) + "]"};
    }
    if (line_length % kBytesPerPixel != 0) {
        return Error{"line_length " + str(line_length) + " is not a whole number of pixels"};
    }
    geometry.line_length = line_length;
    // Both factors are bounded (16384 * 4096), so the product fits 64 bits with room to spare.
    const std::size_t needed = std::size_t{line_length} * geometry.height;
    const std::size_t max_mem = std::min(limits.max_mem_length, kMaxFramebufferBytes);
    if (mem_length < needed) {
        return Error{"mem_length " + str(mem_length) + " below line_length*height " + str(needed)};
    }
    if (mem_length > max_mem) {
        return Error{"mem_length " + str(mem_length) + " beyond the limit " + str(max_mem)};
    }
    geometry.mem_length = mem_length;
    geometry.frame_count = (geometry.mem_length + xen::kPageSize - 1) / xen::kPageSize;
    geometry.directory_page_count =
        (geometry.frame_count + kFramesPerDirectoryPage - 1) / kFramesPerDirectoryPage;
    if (geometry.directory_page_count > kMaxDirectoryPages) {
        return Error{"page directory needs " + str(geometry.directory_page_count) + " pages, at most " +
                     str(kMaxDirectoryPages)};
    }
    for (std::size_t i = 0; i < geometry.directory_page_count; ++i) {
        const auto gfn = load<std::uint64_t>(untrusted_header, kPageDirectoryOffset + i * kDirectoryEntryBytes);
        if (gfn == 0 || gfn > xenbus::kMaxGfn) {
            return Error{"pd[" + str(i) + "] = " + std::to_string(gfn) + " is not a valid frame number"};
        }
        geometry.directory[i] = gfn;
    }
    return geometry;
}

Result<std::vector<xen::Gfn>> parse_frame_list(std::span<const std::byte> untrusted_directory,
                                               const FramebufferGeometry& geometry) {
    if (geometry.frame_count > untrusted_directory.size() / kDirectoryEntryBytes) {
        return Error{"page directory copy too short for " + str(geometry.frame_count) + " frames"};
    }
    std::vector<xen::Gfn> frames(geometry.frame_count);
    for (std::size_t i = 0; i < frames.size(); ++i) {
        const auto gfn = load<std::uint64_t>(untrusted_directory, i * kDirectoryEntryBytes);
        if (gfn == 0 || gfn > xenbus::kMaxGfn) {
            return Error{"framebuffer frame " + str(i) + " = " + std::to_string(gfn) + " is not a valid frame number"};
        }
        frames[i] = gfn;
    }
    return frames;
}

} // namespace twofold::display
