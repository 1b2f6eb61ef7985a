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

} // namespace

void LibvirtDomain::Free::operator()(_virDomain* d) const noexcept { virDomainFree(d); }
void LibvirtConnection::Free::operator()(_virConnect* c) const noexcept { virConnectClose(c); }

LibvirtDomain::LibvirtDomain(_virDomain* handle) : handle_(handle) {}

DomainInfo LibvirtDomain::info() const {
    DomainInfo out;
    const char* name = virDomainGetName(handle_.get());
    out.name = name != nullptr ? name : "";
    int state = 0;
    int reason = 0;
    if (virDomainGetState(handle_.get(), &state, &reason, 0) != 0) {
        fail("cannot read state of domain '" + out.name + "'");
    }
    out.state = map_state(state);
    const unsigned int id = virDomainGetID(handle_.get());
    out.id = id == static_cast<unsigned int>(-1) ? -1 : static_cast<int>(id);
    out.persistent = virDomainIsPersistent(handle_.get()) == 1;
    return out;
}

void LibvirtDomain::start() {
    if (virDomainCreate(handle_.get()) != 0) {
        fail("cannot start domain");
    }
}

void LibvirtDomain::shutdown() {
    if (virDomainShutdown(handle_.get()) != 0) {
        fail("cannot shut down domain");
    }
}

void LibvirtDomain::destroy() {
    if (virDomainDestroy(handle_.get()) != 0) {
        fail("cannot destroy domain");
    }
}

void LibvirtDomain::undefine() {
    if (virDomainUndefine(handle_.get()) != 0) {
        fail("cannot undefine domain");
    }
}

std::string LibvirtDomain::xml() const {
    char* raw = virDomainGetXMLDesc(handle_.get(), 0);
    if (raw == nullptr) {
        fail("cannot read domain XML");
    }
    std::string out(raw);
    std::free(raw); // NOLINT(cppcoreguidelines-no-malloc): libvirt hands out malloc'd strings
    return out;
}

std::string LibvirtDomain::uuid() const {
    char buf[VIR_UUID_STRING_BUFLEN] = {};
    if (virDomainGetUUIDString(handle_.get(), buf) != 0) {
        fail("cannot read domain UUID");
    }
    return buf;
}

LibvirtConnection::LibvirtConnection(const std::string& uri) : uri_(uri), handle_(virConnectOpen(uri.c_str())) {
    if (!handle_) {
        fail("cannot connect to libvirt at '" + uri + "'");
    }
}

std::vector<DomainInfo> LibvirtConnection::list_domains() const {
    virDomainPtr* raw = nullptr;
    const int n = virConnectListAllDomains(handle_.get(), &raw, 0);
    if (n < 0) {
        fail("cannot list domains");
    }
    std::vector<LibvirtDomain> owned;
    owned.reserve(static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) {
        owned.emplace_back(raw[i]);
    }
    std::free(raw); // NOLINT(cppcoreguidelines-no-malloc)
    std::vector<DomainInfo> out;
    for (const auto& d : owned) {
        out.push_back(d.info());
    }
    return out;
}

std::optional<LibvirtDomain> LibvirtConnection::lookup(const std::string& name) const {
    virDomainPtr d = virDomainLookupByName(handle_.get(), name.c_str());
    if (d == nullptr) {
        const virError* err = virGetLastError();
        if (err != nullptr && err->code == VIR_ERR_NO_DOMAIN) {
            virResetLastError();
            return std::nullopt;
        }
        fail("cannot look up domain '" + name + "'");
    }
    return LibvirtDomain(d);
}

LibvirtDomain LibvirtConnection::define(const std::string& xml) {
    virDomainPtr d = virDomainDefineXML(handle_.get(), xml.c_str());
    if (d == nullptr) {
        fail("cannot define domain");
    }
    return LibvirtDomain(d);
}

const char* to_string(DomainState state) noexcept {
    switch (state) {
    case DomainState::Running: return "running";
    case DomainState::Paused: return "paused";
    case DomainState::ShutOff: return "shut-off";
    case DomainState::Crashed: return "crashed";
    case DomainState::Other: return "other";
    }
    return "other";
}

} // namespace twofold::manager
