#pragma once
// The set of Xen services a backend process uses. Backends receive a Platform and never know
// whether it is real Xen (vmm/xen, in dom0) or the loopback (vmm/loopback, on the host).
#include <memory>

#include "twofold/xen/event_channel.h"
#include "twofold/xen/memory.h"
#include "twofold/xen/xenstore.h"

namespace twofold::xen {

class Platform {
public:
    virtual ~Platform() = default;
    [[nodiscard]] virtual DomId own_domid() const = 0;
    virtual std::unique_ptr<XenStore> open_xenstore() = 0;
    virtual std::unique_ptr<EventChannel> open_event_channel() = 0;
    virtual std::unique_ptr<GrantMapper> open_grant_mapper() = 0;
    virtual std::unique_ptr<ForeignMemory> open_foreign_memory() = 0;
};

// The real thing: libxenstore, libxenevtchn, libxengnttab, libxenforeignmemory.
std::unique_ptr<Platform> make_real_platform(DomId own_domid = kDom0);

} // namespace twofold::xen
