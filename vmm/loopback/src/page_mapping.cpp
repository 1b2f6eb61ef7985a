#include "page_mapping.h"

#include <sys/mman.h>

#include <cerrno>

#include "twofold/xen/error.h"

namespace twofold::loopback::detail {

std::span<std::byte> map_pages(std::span<const PageSource> pages, xen::Access access, const char* operation) {
    if (pages.empty()) {
        throw xen::XenError(EINVAL, operation);
    }
    const std::size_t length = pages.size() * xen::kPageSize;
    void* reserved = ::mmap(nullptr, length, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (reserved == MAP_FAILED) {
        xen::throw_errno(operation);
    }
    auto* base = static_cast<std::byte*>(reserved);
    const int prot = access == xen::Access::ReadWrite ? PROT_READ | PROT_WRITE : PROT_READ;
    for (std::size_t i = 0; i < pages.size(); ++i) {
        void* page = ::mmap(base + i * xen::kPageSize, xen::kPageSize, prot, MAP_SHARED | MAP_FIXED,
                            pages[i].fd, pages[i].offset);
        if (page == MAP_FAILED) {
            const int error = errno;
            ::munmap(base, length);
            throw xen::XenError(error, operation);
        }
    }
    return {base, length};
}

void unmap_pages(std::span<std::byte> bytes) noexcept {
    if (!bytes.empty()) {
        ::munmap(bytes.data(), bytes.size());
    }
}

} // namespace twofold::loopback::detail
