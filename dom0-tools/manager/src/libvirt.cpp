#include "twofold/manager/libvirt.h"

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include <cstdlib>

namespace twofold::manager {
namespace {

[[noreturn]] void fail(const std::string& what) {
    const virError* err = virGetLastError();
    throw LibvirtError(what + ": " + (err != nullptr && err->message != nullptr ? err->message : "unknown libvirt error"));
}

DomainState map_state(int state) {
    switch (state) {
    case VIR_DOMAIN_RUNNING:
    case VIR_DOMAIN_BLOCKED: return DomainState::Running;
    case VIR_DOMAIN_PAUSED: return DomainState::Paused;
    case VIR_DOMAIN_SHUTOFF: return DomainState::ShutOff;
    case VIR_DOMAIN_CRASHED: return DomainState::Crashed;
    default: return DomainState::Other;
    }
}

struct FreeDomain {
    void operator()(virDomainPtr d) const noexcept { virDomainFree(d); }
};
using Domain = std::unique_ptr<virDomain, FreeDomain>;

DomainInfo info_of(virDomainPtr d) {
    DomainInfo out;
    const char* name = virDomainGetName(d);
    out.name = name != nullptr ? name : "";
    int state = 0;
    int reason = 0;
    if (virDomainGetState(d, &state, &reason, 0) != 0) {
        fail("cannot read state of domain '" + out.name + "'");
    }
    out.state = map_state(state);
    const unsigned int id = virDomainGetID(d);
    out.id = id == static_cast<unsigned int>(-1) ? -1 : static_cast<int>(id);
    out.persistent = virDomainIsPersistent(d) == 1;
    return out;
}

// nullptr when libvirt has no such domain; any other failure throws.
Domain lookup_domain(virConnectPtr c, const std::string& name) {
    Domain d(virDomainLookupByName(c, name.c_str()));
    if (!d) {
        const virError* err = virGetLastError();
        if (err != nullptr && err->code == VIR_ERR_NO_DOMAIN) {
            virResetLastError();
            return nullptr;
        }
        fail("cannot look up domain '" + name + "'");
    }
    return d;
}

Domain existing(virConnectPtr c, const std::string& name) {
    auto d = lookup_domain(c, name);
    if (!d) {
        throw LibvirtError("no domain named '" + name + "'");
    }
    return d;
}

// One lifecycle call on an existing domain. The handle outlives fail(): freeing it first would
// reset libvirt's last error, and the message would lose libvirt's reason.
void act(virConnectPtr c, const std::string& name, int (*call)(virDomainPtr), const char* what) {
    const Domain d = existing(c, name);
    if (call(d.get()) != 0) {
        fail(std::string("cannot ") + what + " domain '" + name + "'");
    }
}

} // namespace

void LibvirtConnection::Free::operator()(_virConnect* c) const noexcept { virConnectClose(c); }

LibvirtConnection::LibvirtConnection(const std::string& uri) : uri_(uri), handle_(virConnectOpen(uri.c_str())) {
    if (!handle_) {
        fail("cannot connect to libvirt at '" + uri + "'");
    }
}

std::vector<DomainInfo> LibvirtConnection::list_domains() {
    virDomainPtr* raw = nullptr;
    const int n = virConnectListAllDomains(handle_.get(), &raw, 0);
    if (n < 0) {
        fail("cannot list domains");
    }
    std::vector<Domain> owned;
    owned.reserve(static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) {
        owned.emplace_back(raw[i]);
    }
    std::free(raw); // NOLINT(cppcoreguidelines-no-malloc): libvirt hands out malloc'd arrays
    std::vector<DomainInfo> out;
    for (const auto& d : owned) {
        out.push_back(info_of(d.get()));
    }
    return out;
}

std::optional<DomainInfo> LibvirtConnection::find(const std::string& name) {
    const auto d = lookup_domain(handle_.get(), name);
    if (!d) {
        return std::nullopt;
    }
    return info_of(d.get());
}

DomainInfo LibvirtConnection::define_xml(const std::string& xml) {
    const Domain d(virDomainDefineXML(handle_.get(), xml.c_str()));
    if (!d) {
        fail("cannot define domain");
    }
    return info_of(d.get());
}

void LibvirtConnection::start(const std::string& name) { act(handle_.get(), name, virDomainCreate, "start"); }
void LibvirtConnection::start_paused(const std::string& name) {
    act(handle_.get(), name, [](virDomainPtr d) { return virDomainCreateWithFlags(d, VIR_DOMAIN_START_PAUSED); },
        "start (paused)");
}
void LibvirtConnection::resume(const std::string& name) { act(handle_.get(), name, virDomainResume, "resume"); }
void LibvirtConnection::shutdown(const std::string& name) { act(handle_.get(), name, virDomainShutdown, "shut down"); }
void LibvirtConnection::destroy(const std::string& name) { act(handle_.get(), name, virDomainDestroy, "destroy"); }
void LibvirtConnection::undefine(const std::string& name) { act(handle_.get(), name, virDomainUndefine, "undefine"); }

std::string LibvirtConnection::xml(const std::string& name) {
    const Domain d = existing(handle_.get(), name);
    char* raw = virDomainGetXMLDesc(d.get(), 0);
    if (raw == nullptr) {
        fail("cannot read XML of domain '" + name + "'");
    }
    std::string out(raw);
    std::free(raw); // NOLINT(cppcoreguidelines-no-malloc): libvirt hands out malloc'd strings
    return out;
}

std::string LibvirtConnection::uuid(const std::string& name) {
    char buf[VIR_UUID_STRING_BUFLEN] = {};
    const Domain d = existing(handle_.get(), name);
    if (virDomainGetUUIDString(d.get(), buf) != 0) {
        fail("cannot read UUID of domain '" + name + "'");
    }
    return buf;
}

DomainControlStatus LibvirtConnection::status() const { return DomainControlStatus{"in-process", uri_, -1, 0, {}}; }

bool LibvirtConnection::alive() const noexcept { return virConnectIsAlive(handle_.get()) == 1; }

} // namespace twofold::manager
