#pragma once
// One domain's grant table: which of its frames it offers to which domain, and how many live
// mappings use each entry (Xen refuses to end a grant that is still mapped). Not
// thread-safe: Machine serialises access.
#include <cstddef>
#include <map>
#include <span>
#include <vector>

#include "twofold/xen/types.h"

namespace twofold::loopback::detail {

class GrantTable {
public:
    explicit GrantTable(std::size_t max_entries) : max_entries_(max_entries) {}

    // Throws XenError(ENOSPC) when the table is full.
    xen::GrantRef grant(xen::Gfn gfn, xen::DomId grantee, xen::Access access);
    // False (entry kept) while mapped; throws XenError(EINVAL) for an unknown reference.
    bool end(xen::GrantRef ref);
    // The frames behind refs, in order, if every ref is granted to mapper with enough access:
    // XenError(EINVAL) for an unknown ref, XenError(EPERM) for someone else's or a read-only
    // grant mapped writable.
    std::vector<xen::Gfn> frames_for(xen::DomId mapper, std::span<const xen::GrantRef> refs, xen::Access access,
                                     const char* operation) const;
    void add_mapping(std::span<const xen::GrantRef> refs);
    void remove_mapping(std::span<const xen::GrantRef> refs) noexcept;

private:
    struct Entry {
        xen::Gfn gfn;
        xen::DomId grantee;
        xen::Access access;
        std::size_t mappings = 0;
    };

    // GNTTAB_NR_RESERVED_ENTRIES: the first references are reserved by Xen's own tools.
    static constexpr xen::GrantRef kFirstRef = 8;

    std::size_t max_entries_;
    std::map<xen::GrantRef, Entry> entries_;
    // Never reused, so a stale reference can never name a newer grant.
    xen::GrantRef next_ref_ = kFirstRef;
};

} // namespace twofold::loopback::detail
