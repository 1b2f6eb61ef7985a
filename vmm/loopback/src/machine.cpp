#include "machine.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <utility>

#include "page_mapping.h"
#include "twofold/xen/error.h"

namespace twofold::loopback::detail {
namespace {

// Frame numbers start well above zero so a zeroed or uninitialised gfn is never a valid page.
constexpr xen::Gfn kFirstGfn = 0x40000;

UniqueFd create_memory(const std::string& name) {
    const std::string label = "twofold-loopback-" + name;
    UniqueFd fd(::memfd_create(label.c_str(), MFD_CLOEXEC));
    if (fd.get() < 0) {
        xen::throw_errno("memfd_create");
    }
    return fd;
}

} // namespace

Machine::Machine(const Limits& limits) : limits_(limits) {
    domains_.emplace(xen::kDom0, Domain{.name = "Domain-0",
                                        .memory = create_memory("Domain-0"),
                                        .pages = 0,
                                        .grants = GrantTable(limits_.max_grants_per_domain)});
}

xen::DomId Machine::create_domain(const std::string& name) {
    UniqueFd memory = create_memory(name);
    const std::scoped_lock lock(mutex_);
    // Domain ids are never reused: a stale id held by a backend can never name a new guest.
    if (next_domid_ >= xen::kFirstReservedDomId) {
        throw xen::XenError(ENOSPC, "create_domain");
    }
    const xen::DomId domid = next_domid_++;
    domains_.emplace(domid, Domain{.name = name,
                                   .memory = std::move(memory),
                                   .pages = 0,
                                   .grants = GrantTable(limits_.max_grants_per_domain)});
    return domid;
}

void Machine::destroy_domain(xen::DomId domid) {
    if (domid == xen::kDom0) {
        throw xen::XenError(EPERM, "destroy_domain");
    }
    const std::scoped_lock lock(mutex_);
    if (domains_.erase(domid) == 0) {
        throw xen::XenError(ESRCH, "destroy_domain");
    }
}

bool Machine::exists(xen::DomId domid) const {
    const std::scoped_lock lock(mutex_);
    return domains_.contains(domid);
}

void Machine::require_alive(xen::DomId domid, const char* operation) const {
    const std::scoped_lock lock(mutex_);
    alive_locked(domid, operation);
}

Machine::Domain& Machine::alive_locked(xen::DomId domid, const char* operation) {
    auto found = domains_.find(domid);
    if (found == domains_.end()) {
        throw xen::XenError(ESRCH, operation);
    }
    return found->second;
}

const Machine::Domain& Machine::alive_locked(xen::DomId domid, const char* operation) const {
    auto found = domains_.find(domid);
    if (found == domains_.end()) {
        throw xen::XenError(ESRCH, operation);
    }
    return found->second;
}

off_t Machine::page_offset_locked(const Domain& domain, xen::Gfn gfn, const char* operation) const {
    if (gfn < kFirstGfn || gfn - kFirstGfn >= domain.pages) {
        throw xen::XenError(EINVAL, operation);
    }
    return static_cast<off_t>((gfn - kFirstGfn) * xen::kPageSize);
}

std::vector<xen::Gfn> Machine::allocate_pages(xen::DomId domid, std::size_t count) {
    const std::scoped_lock lock(mutex_);
    Domain& domain = alive_locked(domid, "allocate_pages");
    if (count == 0 || count > limits_.max_pages_per_domain - domain.pages) {
        throw xen::XenError(ENOMEM, "allocate_pages");
    }
    // Growing a memfd keeps existing mappings valid; the new pages read as zero.
    if (::ftruncate(domain.memory.get(), static_cast<off_t>((domain.pages + count) * xen::kPageSize)) != 0) {
        xen::throw_errno("allocate_pages");
    }
    std::vector<xen::Gfn> gfns;
    gfns.reserve(count);
    for (std::size_t i = 0; i < count; ++i) {
        gfns.push_back(kFirstGfn + domain.pages + i);
    }
    domain.pages += count;
    return gfns;
}

xen::MappedPages Machine::frontend_view(xen::DomId domid, std::span<const xen::Gfn> gfns) {
    std::span<std::byte> bytes;
    {
        const std::scoped_lock lock(mutex_);
        const Domain& domain = alive_locked(domid, "frontend_view");
        std::vector<PageSource> sources;
        sources.reserve(gfns.size());
        for (const xen::Gfn gfn : gfns) {
            sources.push_back({domain.memory.get(), page_offset_locked(domain, gfn, "frontend_view")});
        }
        bytes = map_pages(sources, xen::Access::ReadWrite, "frontend_view");
        live_frontend_views_.fetch_add(1);
    }
    return xen::MappedPages(bytes, [self = shared_from_this()](std::span<std::byte> mapped) {
        unmap_pages(mapped);
        self->live_frontend_views_.fetch_sub(1);
    });
}

xen::GrantRef Machine::grant_access(xen::DomId owner, xen::Gfn gfn, xen::DomId grantee, xen::Access access) {
    const std::scoped_lock lock(mutex_);
    Domain& domain = alive_locked(owner, "grant_access");
    page_offset_locked(domain, gfn, "grant_access");
    if (grantee >= xen::kFirstReservedDomId) {
        throw xen::XenError(EINVAL, "grant_access");
    }
    return domain.grants.grant(gfn, grantee, access);
}

bool Machine::end_access(xen::DomId owner, xen::GrantRef ref) {
    const std::scoped_lock lock(mutex_);
    return alive_locked(owner, "end_access").grants.end(ref);
}

xen::MappedPages Machine::map_grants(xen::DomId mapper, xen::DomId owner, std::span<const xen::GrantRef> refs,
                                     xen::Access access) {
    constexpr const char* kOperation = "xengnttab_map_domain_grant_refs";
    std::span<std::byte> bytes;
    std::vector<xen::GrantRef> held(refs.begin(), refs.end());
    {
        const std::scoped_lock lock(mutex_);
        alive_locked(mapper, kOperation);
        if (refs.empty() || refs.size() > limits_.max_pages_per_map) {
            throw xen::XenError(EINVAL, kOperation);
        }
        Domain& domain = alive_locked(owner, kOperation);
        // Check every reference before mapping any, so a refused map leaves nothing behind.
        std::vector<PageSource> sources;
        sources.reserve(refs.size());
        for (const xen::Gfn gfn : domain.grants.frames_for(mapper, refs, access, kOperation)) {
            sources.push_back({domain.memory.get(), page_offset_locked(domain, gfn, kOperation)});
        }
        bytes = map_pages(sources, access, kOperation);
        domain.grants.add_mapping(refs);
        live_grant_mappings_.fetch_add(1);
    }
    return xen::MappedPages(bytes, [self = shared_from_this(), owner, held = std::move(held)](std::span<std::byte> mapped) {
        unmap_pages(mapped);
        self->release_grant_mapping(owner, held);
    });
}

void Machine::release_grant_mapping(xen::DomId owner, const std::vector<xen::GrantRef>& refs) noexcept {
    const std::scoped_lock lock(mutex_);
    // A destroyed owner took its grant table with it; references are never reused, so a
    // surviving entry with the same number is always the one this mapping counted.
    auto domain = domains_.find(owner);
    if (domain != domains_.end()) {
        domain->second.grants.remove_mapping(refs);
    }
    live_grant_mappings_.fetch_sub(1);
}

xen::MappedPages Machine::map_foreign(xen::DomId mapper, xen::DomId target, std::span<const xen::Gfn> gfns,
                                      xen::Access access) {
    constexpr const char* kOperation = "xenforeignmemory_map";
    std::span<std::byte> bytes;
    {
        const std::scoped_lock lock(mutex_);
        alive_locked(mapper, kOperation);
        // Only the privileged domain may map another domain's frames by number.
        if (mapper != xen::kDom0) {
            throw xen::XenError(EPERM, kOperation);
        }
        if (gfns.empty() || gfns.size() > limits_.max_pages_per_map) {
            throw xen::XenError(EINVAL, kOperation);
        }
        const Domain& domain = alive_locked(target, kOperation);
        std::vector<PageSource> sources;
        sources.reserve(gfns.size());
        for (const xen::Gfn gfn : gfns) {
            sources.push_back({domain.memory.get(), page_offset_locked(domain, gfn, kOperation)});
        }
        bytes = map_pages(sources, access, kOperation);
        live_foreign_mappings_.fetch_add(1);
    }
    return xen::MappedPages(bytes, [self = shared_from_this()](std::span<std::byte> mapped) {
        unmap_pages(mapped);
        self->live_foreign_mappings_.fetch_sub(1);
    });
}

} // namespace twofold::loopback::detail
