#pragma once
// Maps pages of memfds contiguously: a PROT_NONE reservation first, then each page MAP_FIXED
// over it, so a multi-page mapping is one contiguous range even when its pages are scattered
// (as grant-mapped pages are), and two mappings of one page truly alias.
#include <sys/types.h>

#include <cstddef>
#include <span>
#include <vector>

#include "twofold/xen/types.h"

namespace twofold::loopback::detail {

struct PageSource {
    int fd;
    off_t offset;
};

// Throws XenError(errno, operation) on failure; nothing stays mapped then.
std::span<std::byte> map_pages(std::span<const PageSource> pages, xen::Access access, const char* operation);
void unmap_pages(std::span<std::byte> bytes) noexcept;

} // namespace twofold::loopback::detail
