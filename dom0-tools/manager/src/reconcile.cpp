#include "twofold/manager/reconcile.h"

#include <algorithm>

namespace twofold::manager {

bool ReconcileReport::ok() const {
    return std::none_of(personas.begin(), personas.end(),
                        [](const ReconcileResult& r) { return r.action == ReconcileAction::Failed; });
}

namespace {

ReconcileResult reconcile_one(const PersonaSpec& persona, DomainControl& libvirt, const DomainFlavor& flavor,
                              const BeforeGuestRuns& before_guest_runs) {
    ReconcileResult result{persona.name, ReconcileAction::Failed, -1, {}};
    try {
        // One read of the domain's state: each is a round trip to libvirtd (through the broker).
        const auto existing = libvirt.find(persona.name);
        if (existing && existing->state == DomainState::Running) {
            result.action = ReconcileAction::AlreadyRunning;
            result.domid = existing->id;
            return result;
        }
        // Not running: (re)define from the policy, so a stopped domain never starts with a
        // stale definition, then start it.
        const bool was_defined = existing.has_value();
        auto domain = libvirt.define(make_domain_xml(persona, flavor, was_defined ? libvirt.uuid(persona.name) : std::string{}));
        if (flavor.start_paused) {
            domain.start_paused();
        } else {
            domain.start();
        }
        result.domid = domain.info().id;
        if (before_guest_runs) {
            before_guest_runs(persona.name, result.domid);
        }
        if (flavor.start_paused) {
            domain.resume();
        }
        result.action = was_defined ? ReconcileAction::Started : ReconcileAction::DefinedAndStarted;
    } catch (const LibvirtError& e) {
        result.detail = e.what();
    }
    return result;
}

} // namespace

ReconcileReport reconcile(const std::vector<PersonaSpec>& personas, DomainControl& libvirt, const DomainFlavor& flavor,
                          const BeforeGuestRuns& before_guest_runs) {
    ReconcileReport report;
    for (const auto& p : personas) {
        report.personas.push_back(reconcile_one(p, libvirt, flavor, before_guest_runs));
    }
    for (const auto& d : libvirt.list_domains()) {
        const bool managed = std::any_of(personas.begin(), personas.end(), [&](const PersonaSpec& p) { return p.name == d.name; });
        if (!managed) {
            report.unmanaged.push_back(d.name);
        }
    }
    return report;
}

const char* to_string(ReconcileAction action) noexcept {
    switch (action) {
    case ReconcileAction::DefinedAndStarted: return "defined-and-started";
    case ReconcileAction::Started: return "started";
    case ReconcileAction::AlreadyRunning: return "already-running";
    case ReconcileAction::Failed: return "failed";
    }
    return "failed";
}

} // namespace twofold::manager
