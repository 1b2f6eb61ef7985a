#pragma once
// A simulated Xen machine for host tests: the xen::Platform interfaces backed by memfd pages
// (real aliasing between a frontend's view and a backend's mapping), eventfd event channels
// with Linux evtchn semantics, and an in-process xenstore with xenstored's rules.
//
// One Hypervisor is shared by the backend under test and by simulated frontends, possibly on
// different threads: every method is thread-safe. Handles and mappings handed out keep the
// simulated machine alive, so they may outlive the Hypervisor object itself.
#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "twofold/xen/mapped_pages.h"
#include "twofold/xen/platform.h"
#include "twofold/xen/types.h"

namespace twofold::loopback {

namespace detail {
struct Core;
}

// Limits of the simulated machine. The xenstore ones mirror xenstored's quotas (which apply to
// unprivileged domains only); tests shrink them to reach the limits quickly.
struct Limits {
    std::size_t max_pages_per_domain = 16384;    // 64 MiB of guest memory
    std::size_t max_grants_per_domain = 4096;
    std::size_t max_pages_per_map = 1024;
    std::size_t max_ports_per_domain = 1024;
    std::size_t max_nodes_per_domain = 1000;     // xenstored quota-nb-entry-per-domain
    std::size_t max_watches_per_connection = 128; // xenstored quota-nb-watch-per-domain
    std::size_t max_queued_watch_events = 1024;   // per connection; see XenStore overflow note
};

// What a port of a domain is doing, for tests that check channel closure.
enum class PortState { Free, Unbound, Connected };

class Hypervisor {
public:
    explicit Hypervisor(Limits limits = {});
    ~Hypervisor();
    Hypervisor(const Hypervisor&) = delete;
    Hypervisor& operator=(const Hypervisor&) = delete;

    // dom0 exists from the start and is the only privileged domain. A new domain gets, as the
    // toolstack would create them, /local/domain/<id> (owned by dom0, readable by the domain),
    // its name node, and domain-writable device/ and data/ directories; @introduceDomain fires.
    xen::DomId create_domain(const std::string& name);
    // Like `xl destroy`: the domain's event channels close (their remote ends become unbound),
    // its grants are revoked, /local/domain/<id> is removed and @releaseDomain fires. Pages
    // stay alive while a mapping still holds them, as in Xen. Throws XenError(ESRCH) for an
    // unknown domain and XenError(EPERM) for dom0.
    void destroy_domain(xen::DomId domid);
    [[nodiscard]] bool domain_exists(xen::DomId domid) const;

    // Guest memory: fresh zeroed pages owned by domid.
    std::vector<xen::Gfn> allocate_pages(xen::DomId domid, std::size_t count);
    // The guest's own view of its pages (what a simulated frontend writes through), mapped
    // contiguously in the order given. The same memfd pages a backend maps, at another address.
    xen::MappedPages frontend_view(xen::DomId domid, xen::Gfn gfn);
    xen::MappedPages frontend_view(xen::DomId domid, std::span<const xen::Gfn> gfns);

    // Grant table of the owner domain. end_access() revokes a grant; like Xen's
    // gnttab_end_foreign_access_ref it refuses (returns false, grant kept) while the grant is
    // still mapped by the grantee. Unknown refs throw XenError(EINVAL).
    xen::GrantRef grant_access(xen::DomId owner, xen::Gfn gfn, xen::DomId grantee, xen::Access access);
    bool end_access(xen::DomId owner, xen::GrantRef ref);

    // That domain's view of Xen: its own xenstore connections, event channel handles, grant
    // mapper and (dom0 only) foreign memory.
    std::unique_ptr<xen::Platform> platform(xen::DomId domid);

    [[nodiscard]] PortState port_state(xen::DomId domid, xen::Port port) const;

    // Leak counters: all return to zero once every handle and mapping is destroyed.
    [[nodiscard]] std::size_t live_grant_mappings() const;
    [[nodiscard]] std::size_t live_foreign_mappings() const;
    [[nodiscard]] std::size_t live_frontend_views() const;
    [[nodiscard]] std::size_t bound_ports(xen::DomId domid) const;
    [[nodiscard]] std::size_t open_xenstore_connections() const;
    [[nodiscard]] std::size_t open_event_channel_handles() const;

private:
    std::shared_ptr<detail::Core> core_;
};

} // namespace twofold::loopback
