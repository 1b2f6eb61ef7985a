#pragma once
// Turns a persona's definition into libvirt domain XML. The persona definition comes from the
// checked policy (dom0-tools/policy); this header keeps its own small struct so the manager's
// libvirt side does not depend on the policy file format.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "twofold/manager/domain_control.h"

namespace twofold::manager {

struct DiskSpec {
    std::string source;      // file in dom0, or a block device when `block`
    std::string target;      // xvda, xvdb ...
    bool readonly = false;
    bool block = false;      // an encrypted disk: dom0's dm-crypt mapping of it once unlocked
};

// Where dom0 opens a persona's encrypted disk (twofold-keystore secure unlock --name): the
// guest gets the plaintext side through blkback and never holds the key.
std::string encrypted_volume_node(std::string_view persona, std::string_view target);

// A PV network interface (netif): the guest's unmodified xen-netfront, dom0's netback, the
// vif joining the persona's own bridge in dom0 (docs/network.md). dom0's hotplug script
// (guests/dom0/rootfs/etc/xen/scripts/vif-twofold) attaches it.
struct NetworkSpec {
    std::string bridge;
    std::string mac;  // 00:16:3e:xx:xx:xx (Xen's OUI); empty: libvirt picks one
};

inline constexpr const char* kVifHotplugScript = "/etc/xen/scripts/vif-twofold";

struct PersonaSpec {
    std::string name;
    std::string kind;        // personal | secure (kept in the domain's metadata)
    std::uint32_t memory_mib = 0;
    std::uint32_t vcpus = 1;
    std::string kernel;
    std::string initrd;
    std::string cmdline;
    std::vector<DiskSpec> disks;
    std::vector<NetworkSpec> networks;  // only those the policy grants
    // FLASK label the persona asks for (policy/xsm). Empty: the label of its kind. Set and
    // different from its kind's label: the persona is refused (PersonaLabelError).
    std::string seclabel;
};

// The FLASK label (Xen security context) of each persona kind; nothing for an unknown kind.
std::optional<std::string> flask_label_for_kind(std::string_view kind);

// A persona whose kind has no label, or whose requested label is not its kind's, is not
// started: a personal persona running as secure_t (or the reverse) would hold the other
// persona's rights under the hypervisor's policy. A LibvirtError, so that reconcile reports
// it as that persona's failure and carries on with the others.
class PersonaLabelError : public LibvirtError {
public:
    using LibvirtError::LibvirtError;
};

// Where the domain runs: Xen PV on ARM in dom0, or libvirt's test driver in host tests.
struct DomainFlavor {
    std::string domain_type; // "xen" or "test"
    std::string arch;        // "aarch64" for the board
    std::string machine;     // "xenpv" for Xen on ARM; empty for the test driver
    // Start paused, put the devices libvirt does not model in xenstore, then resume: a guest
    // kernel enumerates its xenbus devices once at boot and can miss one written meanwhile.
    // libvirt's test driver has no paused start (and no guest kernel to race).
    bool start_paused = true;

    static DomainFlavor xen_arm() { return {"xen", "aarch64", "xenpv", true}; }
    static DomainFlavor test_driver() { return {"test", "i686", "", false}; }
};

inline constexpr const char* kMetadataNamespace = "https://twofold.invalid/xmlns/persona/1";

// `uuid`: keep an existing domain's identity when redefining it (libvirt refuses a second
// definition of the same name with another UUID). Throws PersonaLabelError (see above).
std::string make_domain_xml(const PersonaSpec& persona, const DomainFlavor& flavor, const std::string& uuid = {});
// Escapes text for XML element content and attribute values.
std::string xml_escape(const std::string& text);

} // namespace twofold::manager
