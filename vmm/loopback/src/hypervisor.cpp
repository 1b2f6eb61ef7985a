#include "twofold/loopback/hypervisor.h"

#include <utility>

#include "core.h"

namespace twofold::loopback {
namespace {

class LoopbackGrantMapper final : public xen::GrantMapper {
public:
    LoopbackGrantMapper(std::shared_ptr<detail::Machine> machine, xen::DomId self)
        : machine_(std::move(machine)), self_(self) {}
    xen::MappedPages map(xen::DomId domid, std::span<const xen::GrantRef> refs, xen::Access access) override {
        return machine_->map_grants(self_, domid, refs, access);
    }

private:
    std::shared_ptr<detail::Machine> machine_;
    const xen::DomId self_;
};

class LoopbackForeignMemory final : public xen::ForeignMemory {
public:
    LoopbackForeignMemory(std::shared_ptr<detail::Machine> machine, xen::DomId self)
        : machine_(std::move(machine)), self_(self) {}
    xen::MappedPages map(xen::DomId domid, std::span<const xen::Gfn> frames, xen::Access access) override {
        return machine_->map_foreign(self_, domid, frames, access);
    }

private:
    std::shared_ptr<detail::Machine> machine_;
    const xen::DomId self_;
};

// One domain's view of the machine.
class LoopbackPlatform final : public xen::Platform {
public:
    LoopbackPlatform(std::shared_ptr<detail::Core> core, xen::DomId self) : core_(std::move(core)), self_(self) {}

    [[nodiscard]] xen::DomId own_domid() const override { return self_; }
    std::unique_ptr<xen::XenStore> open_xenstore() override {
        core_->machine->require_alive(self_, "xs_open");
        return core_->xenstore->connect(self_);
    }
    std::unique_ptr<xen::EventChannel> open_event_channel() override {
        return core_->event_channels->open(self_);
    }
    std::unique_ptr<xen::GrantMapper> open_grant_mapper() override {
        core_->machine->require_alive(self_, "xengnttab_open");
        return std::make_unique<LoopbackGrantMapper>(core_->machine, self_);
    }
    std::unique_ptr<xen::ForeignMemory> open_foreign_memory() override {
        core_->machine->require_alive(self_, "xenforeignmemory_open");
        return std::make_unique<LoopbackForeignMemory>(core_->machine, self_);
    }

private:
    std::shared_ptr<detail::Core> core_;
    const xen::DomId self_;
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
