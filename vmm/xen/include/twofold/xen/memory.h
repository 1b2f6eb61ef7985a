#pragma once
// Mapping a guest's pages into this process: by grant reference (what a frontend offers,
// the normal path for rings) or by frame number (foreign mapping, privileged; used where a
// protocol hands us frame numbers, e.g. the vfb page directory). Map only from the domid the
// toolstack assigned to the device, never from one a guest names.
#include <span>

#include "twofold/xen/mapped_pages.h"
#include "twofold/xen/types.h"

namespace twofold::xen {

class GrantMapper {
public:
    virtual ~GrantMapper() = default;
    // Maps the granted pages contiguously, in the order given.
    virtual MappedPages map(DomId domid, std::span<const GrantRef> refs, Access access) = 0;
};

class ForeignMemory {
public:
    virtual ~ForeignMemory() = default;
    // Maps the guest frames contiguously, in the order given.
    virtual MappedPages map(DomId domid, std::span<const Gfn> frames, Access access) = 0;
};

} // namespace twofold::xen
