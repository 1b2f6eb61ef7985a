#include <sys/mman.h>

#include <cerrno>
#include <utility>
#include <vector>

extern "C" {
#include <xenforeignmemory.h>
#include <xengnttab.h>
}

#include "twofold/xen/error.h"
#include "twofold/xen/real_platform.h"

namespace twofold::xen {
namespace {

int to_prot(Access access) { return access == Access::ReadWrite ? PROT_READ | PROT_WRITE : PROT_READ; }

void check_count(std::size_t count, const char* operation) {
    if (count == 0 || count > kMaxPagesPerMap) {
        throw XenError(EINVAL, operation);
    }
}

} // namespace

RealGrantMapper::RealGrantMapper() : RealGrantMapper(std::make_shared<GnttabHandle>()) {}

RealGrantMapper::RealGrantMapper(std::shared_ptr<GnttabHandle> handle)
    : handle_(std::move(handle)), count_(std::make_shared<MappingCount>()) {}

MappedPages RealGrantMapper::map(DomId domid, std::span<const GrantRef> refs, Access access) {
    constexpr const char* kOperation = "xengnttab_map_domain_grant_refs";
    check_count(refs.size(), kOperation);
    // The C API takes a non-const array.
    std::vector<std::uint32_t> copy(refs.begin(), refs.end());
    const auto count = static_cast<std::uint32_t>(copy.size());
    void* address = ::xengnttab_map_domain_grant_refs(handle_->get(), count, domid, copy.data(), to_prot(access));
    if (address == nullptr) {
        throw_errno(kOperation);
    }
    count_->add();
    return MappedPages({static_cast<std::byte*>(address), copy.size() * kPageSize},
                       [handle = handle_, counter = count_, count](std::span<std::byte> bytes) {
                           // An unmap failure leaves the pages mapped; nothing more can be done
                           // here, and libxengnttab has logged it.
                           ::xengnttab_unmap(handle->get(), bytes.data(), count);
                           counter->remove();
                       });
}

RealForeignMemory::RealForeignMemory()
    : handle_(std::make_shared<ForeignMemoryHandle>()), count_(std::make_shared<MappingCount>()) {}

void RealForeignMemory::restrict_to(DomId domid) {
    if (::xenforeignmemory_restrict(handle_->get(), domid) < 0) {
        throw_errno("xenforeignmemory_restrict");
    }
}

MappedPages RealForeignMemory::map(DomId domid, std::span<const Gfn> frames, Access access) {
    constexpr const char* kOperation = "xenforeignmemory_map";
    check_count(frames.size(), kOperation);
    const std::vector<xen_pfn_t> copy(frames.begin(), frames.end());
    // No per-page error array: all pages map or none do (errno names the first failure).
    void* address = ::xenforeignmemory_map(handle_->get(), domid, to_prot(access), copy.size(), copy.data(), nullptr);
    if (address == nullptr) {
        throw_errno(kOperation);
    }
    count_->add();
    return MappedPages({static_cast<std::byte*>(address), copy.size() * kPageSize},
                       [handle = handle_, counter = count_](std::span<std::byte> bytes) {
                           ::xenforeignmemory_unmap(handle->get(), bytes.data(), bytes.size() / kPageSize);
                           counter->remove();
                       });
}

} // namespace twofold::xen
