#include "grant_table.h"

#include <cerrno>

#include "twofold/xen/error.h"

namespace twofold::loopback::detail {

xen::GrantRef GrantTable::grant(xen::Gfn gfn, xen::DomId grantee, xen::Access access) {
    if (entries_.size() >= max_entries_) {
        throw xen::XenError(ENOSPC, "grant_access");
    }
    const xen::GrantRef ref = next_ref_++;
    entries_.emplace(ref, Entry{.gfn = gfn, .grantee = grantee, .access = access});
    return ref;
}

bool GrantTable::end(xen::GrantRef ref) {
    auto found = entries_.find(ref);
    if (found == entries_.end()) {
        throw xen::XenError(EINVAL, "end_access");
    }
    if (found->second.mappings > 0) {
        return false;
    }
    entries_.erase(found);
    return true;
}

std::vector<xen::Gfn> GrantTable::frames_for(xen::DomId mapper, std::span<const xen::GrantRef> refs,
                                             xen::Access access, const char* operation) const {
    std::vector<xen::Gfn> frames;
    frames.reserve(refs.size());
    for (const xen::GrantRef ref : refs) {
        auto found = entries_.find(ref);
        if (found == entries_.end()) {
            throw xen::XenError(EINVAL, operation);
        }
        const Entry& entry = found->second;
        if (entry.grantee != mapper) {
            throw xen::XenError(EPERM, operation);
        }
        if (access == xen::Access::ReadWrite && entry.access != xen::Access::ReadWrite) {
            throw xen::XenError(EPERM, operation);
        }
        frames.push_back(entry.gfn);
    }
    return frames;
}

void GrantTable::add_mapping(std::span<const xen::GrantRef> refs) {
    for (const xen::GrantRef ref : refs) {
        ++entries_.at(ref).mappings;
    }
}

void GrantTable::remove_mapping(std::span<const xen::GrantRef> refs) noexcept {
    for (const xen::GrantRef ref : refs) {
        auto found = entries_.find(ref);
        if (found != entries_.end() && found->second.mappings > 0) {
            --found->second.mappings;
        }
    }
}

} // namespace twofold::loopback::detail
