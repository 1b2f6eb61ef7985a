#pragma once
// Brings libvirt in line with the policy at manager start, without disturbing what already
// runs: a manager restarted after `kill -9` finds its personas running and leaves them be.
#include <functional>
#include <string>
#include <vector>

#include "twofold/manager/domain_xml.h"
#include "twofold/manager/domain_control.h"

namespace twofold::manager {

enum class ReconcileAction { DefinedAndStarted, Started, AlreadyRunning, Failed };

struct ReconcileResult {
    std::string persona;
    ReconcileAction action = ReconcileAction::Failed;
    int domid = -1;
    std::string detail; // the error, when Failed
};

struct ReconcileReport {
    std::vector<ReconcileResult> personas;
    std::vector<std::string> unmanaged; // domains libvirt knows that the policy does not name
    [[nodiscard]] bool ok() const;
};

// Runs for each persona this reconcile starts, after its domain exists and before its guest
// runs (with flavor.start_paused; right after the start otherwise): where the manager puts the
// PV devices libvirt does not model in xenstore.
using BeforeGuestRuns = std::function<void(const std::string& persona, int domid)>;

// Each persona is handled on its own: one that fails to start does not stop the other.
ReconcileReport reconcile(const std::vector<PersonaSpec>& personas, DomainControl& libvirt, const DomainFlavor& flavor,
                          const BeforeGuestRuns& before_guest_runs = {});

[[nodiscard]] const char* to_string(ReconcileAction action) noexcept;

} // namespace twofold::manager
