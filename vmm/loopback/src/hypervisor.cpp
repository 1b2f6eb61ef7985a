#include "twofold/loopback/hypervisor.h"

#include <cerrno>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core.h"
#include "twofold/xen/error.h"

namespace twofold::loopback {
namespace {

// What restrict_to() set, shared by a platform and every handle it opened: as with the dom0
// kernel's restriction, handles opened before the call are bound by it too.
class Restriction {
public:
    [[nodiscard]] std::optional<xen::DomId> domid() const {
        const std::scoped_lock lock(mutex_);
        return domid_;
    }
    void set(xen::DomId domid) {
        const std::scoped_lock lock(mutex_);
        // As IOCTL_PRIVCMD_RESTRICT: a second restriction must name the same domain.
        if (domid == xen::kDom0 || domid >= xen::kFirstReservedDomId || (domid_ && *domid_ != domid)) {
            throw xen::XenError(EINVAL, "restrict_to " + std::to_string(domid));
        }
        domid_ = domid;
    }
    // Linux gntdev and xenstored have no per-domain restriction: a restricted process keeps
    // neither (the real platform puts /dev/null over their descriptors).
    void refuse_if_cut(const std::string& operation) const {
        if (domid()) throw xen::XenError(EBADF, operation + " (handle cut by restrict_to)");
    }

private:
    mutable std::mutex mutex_;
    std::optional<xen::DomId> domid_;
};

class LoopbackGrantMapper final : public xen::GrantMapper {
public:
    LoopbackGrantMapper(std::shared_ptr<detail::Machine> machine, xen::DomId self,
                        std::shared_ptr<const Restriction> restriction)
        : machine_(std::move(machine)), self_(self), restriction_(std::move(restriction)) {}
    xen::MappedPages map(xen::DomId domid, std::span<const xen::GrantRef> refs, xen::Access access) override {
        restriction_->refuse_if_cut("xengnttab_map_domain_grant_refs");
        return machine_->map_grants(self_, domid, refs, access);
    }

private:
    std::shared_ptr<detail::Machine> machine_;
    const xen::DomId self_;
    std::shared_ptr<const Restriction> restriction_;
};

class LoopbackForeignMemory final : public xen::ForeignMemory {
public:
    LoopbackForeignMemory(std::shared_ptr<detail::Machine> machine, xen::DomId self,
                          std::shared_ptr<const Restriction> restriction)
        : machine_(std::move(machine)), self_(self), restriction_(std::move(restriction)) {}
    xen::MappedPages map(xen::DomId domid, std::span<const xen::Gfn> frames, xen::Access access) override {
        // privcmd's answer to a restricted handle naming another domain.
        if (const auto only = restriction_->domid(); only && *only != domid) {
            throw xen::XenError(EPERM, "xenforeignmemory_map (restricted to domain " + std::to_string(*only) + ")");
        }
        return machine_->map_foreign(self_, domid, frames, access);
    }

private:
    std::shared_ptr<detail::Machine> machine_;
    const xen::DomId self_;
    std::shared_ptr<const Restriction> restriction_;
};

// The evtchn device's rules for a restricted handle: interdomain binds to that domain only,
// no unbound ports offered to anyone; notify, unbind and unmask reach only this handle's own
// ports anyway (the hub checks that).
class RestrictableEventChannel final : public xen::EventChannel {
public:
    RestrictableEventChannel(std::unique_ptr<xen::EventChannel> inner, std::shared_ptr<const Restriction> restriction)
        : inner_(std::move(inner)), restriction_(std::move(restriction)) {}
    xen::Port bind_interdomain(xen::DomId remote, xen::Port remote_port) override {
        if (const auto only = restriction_->domid(); only && *only != remote) {
            throw xen::XenError(EACCES, "xenevtchn_bind_interdomain (restricted)");
        }
        return inner_->bind_interdomain(remote, remote_port);
    }
    xen::Port bind_unbound(xen::DomId remote) override {
        if (restriction_->domid()) throw xen::XenError(EACCES, "xenevtchn_bind_unbound_port (restricted)");
        return inner_->bind_unbound(remote);
    }
    void unbind(xen::Port local) override { inner_->unbind(local); }
    void notify(xen::Port local) override { inner_->notify(local); }
    [[nodiscard]] int fd() const override { return inner_->fd(); }
    std::optional<xen::Port> pending() override { return inner_->pending(); }
    void unmask(xen::Port local) override { inner_->unmask(local); }

private:
    std::unique_ptr<xen::EventChannel> inner_;
    std::shared_ptr<const Restriction> restriction_;
};

// A xenstore connection that restrict_to() cuts: every request fails from then on.
class CuttableXenStore final : public xen::XenStore {
public:
    CuttableXenStore(std::unique_ptr<xen::XenStore> inner, std::shared_ptr<const Restriction> restriction)
        : inner_(std::move(inner)), restriction_(std::move(restriction)) {}
    std::optional<std::string> read(const std::string& path) override {
        restriction_->refuse_if_cut("xs_read " + path);
        return inner_->read(path);
    }
    void write(const std::string& path, std::string_view value) override {
        restriction_->refuse_if_cut("xs_write " + path);
        inner_->write(path, value);
    }
    void mkdir(const std::string& path) override {
        restriction_->refuse_if_cut("xs_mkdir " + path);
        inner_->mkdir(path);
    }
    void remove(const std::string& path) override {
        restriction_->refuse_if_cut("xs_rm " + path);
        inner_->remove(path);
    }
    std::vector<std::string> list(const std::string& path) override {
        restriction_->refuse_if_cut("xs_directory " + path);
        return inner_->list(path);
    }
    void set_permissions(const std::string& path, std::span<const xen::Permission> perms) override {
        restriction_->refuse_if_cut("xs_set_permissions " + path);
        inner_->set_permissions(path, perms);
    }
    std::optional<std::vector<xen::Permission>> get_permissions(const std::string& path) override {
        restriction_->refuse_if_cut("xs_get_permissions " + path);
        return inner_->get_permissions(path);
    }
    void watch(const std::string& path, const std::string& token) override {
        restriction_->refuse_if_cut("xs_watch " + path);
        inner_->watch(path, token);
    }
    void unwatch(const std::string& path, const std::string& token) override {
        restriction_->refuse_if_cut("xs_unwatch " + path);
        inner_->unwatch(path, token);
    }
    [[nodiscard]] int watch_fd() const override { return inner_->watch_fd(); }
    std::vector<xen::WatchEvent> take_watch_events() override {
        restriction_->refuse_if_cut("xs_check_watch");
        return inner_->take_watch_events();
    }

private:
    std::unique_ptr<xen::XenStore> inner_;
    std::shared_ptr<const Restriction> restriction_;
};

// One domain's view of the machine.
class LoopbackPlatform final : public xen::Platform {
public:
    LoopbackPlatform(std::shared_ptr<detail::Core> core, xen::DomId self) : core_(std::move(core)), self_(self) {}

    [[nodiscard]] xen::DomId own_domid() const override { return self_; }
    std::unique_ptr<xen::XenStore> open_xenstore() override {
        refuse_if_restricted("xs_open");
        core_->machine->require_alive(self_, "xs_open");
        return std::make_unique<CuttableXenStore>(core_->xenstore->connect(self_), restriction_);
    }
    std::unique_ptr<xen::EventChannel> open_event_channel() override {
        return std::make_unique<RestrictableEventChannel>(core_->event_channels->open(self_), restriction_);
    }
    std::unique_ptr<xen::GrantMapper> open_grant_mapper() override {
        refuse_if_restricted("xengnttab_open");
        core_->machine->require_alive(self_, "xengnttab_open");
        return std::make_unique<LoopbackGrantMapper>(core_->machine, self_, restriction_);
    }
    std::unique_ptr<xen::ForeignMemory> open_foreign_memory() override {
        core_->machine->require_alive(self_, "xenforeignmemory_open");
        return std::make_unique<LoopbackForeignMemory>(core_->machine, self_, restriction_);
    }
    void restrict_to(xen::DomId domid) override { restriction_->set(domid); }
    [[nodiscard]] std::optional<xen::DomId> restricted_to() const override { return restriction_->domid(); }

private:
    void refuse_if_restricted(const std::string& operation) const {
        if (restriction_->domid()) throw xen::XenError(EPERM, operation + " (restricted to one domain)");
    }

    std::shared_ptr<detail::Core> core_;
    const xen::DomId self_;
    std::shared_ptr<Restriction> restriction_ = std::make_shared<Restriction>();
};

} // namespace

Hypervisor::Hypervisor(Limits limits) : core_(std::make_shared<detail::Core>(limits)) {}

Hypervisor::~Hypervisor() = default;

xen::DomId Hypervisor::create_domain(const std::string& name) {
    const xen::DomId domid = core_->machine->create_domain(name);
    core_->xenstore->introduce_domain(domid, name);
    return domid;
}

void Hypervisor::destroy_domain(xen::DomId domid) {
    core_->machine->destroy_domain(domid);
    core_->event_channels->close_domain(domid);
    core_->xenstore->release_domain(domid);
}

bool Hypervisor::domain_exists(xen::DomId domid) const { return core_->machine->exists(domid); }

std::vector<xen::Gfn> Hypervisor::allocate_pages(xen::DomId domid, std::size_t count) {
    return core_->machine->allocate_pages(domid, count);
}

xen::MappedPages Hypervisor::frontend_view(xen::DomId domid, xen::Gfn gfn) {
    return core_->machine->frontend_view(domid, std::span<const xen::Gfn>(&gfn, 1));
}

xen::MappedPages Hypervisor::frontend_view(xen::DomId domid, std::span<const xen::Gfn> gfns) {
    return core_->machine->frontend_view(domid, gfns);
}

xen::GrantRef Hypervisor::grant_access(xen::DomId owner, xen::Gfn gfn, xen::DomId grantee, xen::Access access) {
    return core_->machine->grant_access(owner, gfn, grantee, access);
}

bool Hypervisor::end_access(xen::DomId owner, xen::GrantRef ref) { return core_->machine->end_access(owner, ref); }

std::unique_ptr<xen::Platform> Hypervisor::platform(xen::DomId domid) {
    core_->machine->require_alive(domid, "platform");
    return std::make_unique<LoopbackPlatform>(core_, domid);
}

PortState Hypervisor::port_state(xen::DomId domid, xen::Port port) const {
    return core_->event_channels->state(domid, port);
}

std::size_t Hypervisor::live_grant_mappings() const { return core_->machine->live_grant_mappings(); }
std::size_t Hypervisor::live_foreign_mappings() const { return core_->machine->live_foreign_mappings(); }
std::size_t Hypervisor::live_frontend_views() const { return core_->machine->live_frontend_views(); }
std::size_t Hypervisor::bound_ports(xen::DomId domid) const { return core_->event_channels->bound_ports(domid); }
std::size_t Hypervisor::open_xenstore_connections() const { return core_->xenstore->open_connections(); }
std::size_t Hypervisor::open_event_channel_handles() const { return core_->event_channels->open_handles(); }

} // namespace twofold::loopback
