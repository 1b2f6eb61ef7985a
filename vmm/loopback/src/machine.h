#pragma once
// The simulated machine's domains and their memory (one memfd each), and the mappings of it.
// Mappings of guest pages alias the domain's memfd, so they stay valid after the domain dies,
// as pages held by a mapping do in Xen.
#include <atomic>
#include <cstddef>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "grant_table.h"
#include "twofold/loopback/hypervisor.h"
#include "twofold/xen/mapped_pages.h"
#include "twofold/xen/types.h"
#include "twofold/xen/unique_fd.h"

namespace twofold::loopback::detail {

using xen::UniqueFd;

class Machine : public std::enable_shared_from_this<Machine> {
public:
    explicit Machine(const Limits& limits);

    xen::DomId create_domain(const std::string& name);
    void destroy_domain(xen::DomId domid);
    [[nodiscard]] bool exists(xen::DomId domid) const;
    // Throws XenError(ESRCH, operation) unless domid is alive.
    void require_alive(xen::DomId domid, const char* operation) const;

    std::vector<xen::Gfn> allocate_pages(xen::DomId domid, std::size_t count);
    xen::MappedPages frontend_view(xen::DomId domid, std::span<const xen::Gfn> gfns);

    xen::GrantRef grant_access(xen::DomId owner, xen::Gfn gfn, xen::DomId grantee, xen::Access access);
    bool end_access(xen::DomId owner, xen::GrantRef ref);

    xen::MappedPages map_grants(xen::DomId mapper, xen::DomId owner, std::span<const xen::GrantRef> refs,
                                xen::Access access);
    xen::MappedPages map_foreign(xen::DomId mapper, xen::DomId target, std::span<const xen::Gfn> gfns,
                                 xen::Access access);

    [[nodiscard]] std::size_t live_grant_mappings() const noexcept { return live_grant_mappings_.load(); }
    [[nodiscard]] std::size_t live_foreign_mappings() const noexcept { return live_foreign_mappings_.load(); }
    [[nodiscard]] std::size_t live_frontend_views() const noexcept { return live_frontend_views_.load(); }

private:
    struct Domain {
        std::string name;
        UniqueFd memory;
        std::size_t pages;
        GrantTable grants;
    };

    Domain& alive_locked(xen::DomId domid, const char* operation);
    const Domain& alive_locked(xen::DomId domid, const char* operation) const;
    off_t page_offset_locked(const Domain& domain, xen::Gfn gfn, const char* operation) const;
    void release_grant_mapping(xen::DomId owner, const std::vector<xen::GrantRef>& refs) noexcept;

    Limits limits_;
    mutable std::mutex mutex_;
    std::map<xen::DomId, Domain> domains_;
    xen::DomId next_domid_ = 1;
    std::atomic<std::size_t> live_grant_mappings_{0};
    std::atomic<std::size_t> live_foreign_mappings_{0};
    std::atomic<std::size_t> live_frontend_views_{0};
};

} // namespace twofold::loopback::detail
