#pragma once
// The set of Xen services a backend process uses. Backends receive a Platform and never know
// whether it is real Xen (vmm/xen, in dom0) or the loopback (vmm/loopback, on the host).
#include <memory>
#include <optional>

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

    // Confines this process's Xen access to one guest, for good (issue 14): a backend that
    // serves one persona calls it once it has opened what it needs, so that, taken over, it
    // can neither map, bind nor signal anything of another domain. After it:
    //  - foreign mapping and event-channel binding reach `domid` only, enforced by the dom0
    //    kernel (IOCTL_PRIVCMD_RESTRICT, IOCTL_EVTCHN_RESTRICT_DOMID) on every handle already
    //    open and on each one opened later; binding an unbound port for anyone is refused;
    //  - the xenstore connection and the grant device are cut (neither xenstored nor Linux's
    //    gntdev can restrict a handle to one domain: XS_RESTRICT is gone since Xen 4.9, and
    //    gntdev maps any domain's grants to dom0), and opening either again is refused.
    // Refused (XenError EINVAL) for dom0, a reserved domid, or a second, different domid.
    virtual void restrict_to(DomId domid) = 0;
    // The domain restrict_to() confined this platform to, if any.
    [[nodiscard]] virtual std::optional<DomId> restricted_to() const = 0;
};

// The real thing: libxenstore, libxenevtchn, libxengnttab, libxenforeignmemory.
std::unique_ptr<Platform> make_real_platform(DomId own_domid = kDom0);

} // namespace twofold::xen
