#pragma once
// The toolstack side of the paravirtual devices libvirt does not model on ARM (vfb, vkbd,
// secondary consoles): the manager writes the backend and frontend xenstore directories, as
// libxl does for the devices it knows, so that unmodified Linux frontends (xen-fbfront,
// xen-kbdfront, hvc_xen) find a backend served by our own dom0 processes.
// Paths are built only from numeric domids, device ids and constant type names.
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "twofold/xen/types.h"
#include "twofold/xen/xenstore.h"

namespace twofold::manager {

enum class PvDeviceType : std::uint8_t { Vfb, Vkbd, Console };

struct PvDevice {
    PvDeviceType type = PvDeviceType::Vfb;
    std::uint32_t devid = 0;
    xen::DomId backend_domid = xen::kDom0;
    // Toolstack-chosen settings for the backend directory (e.g. a console's "name"). Keys are
    // constants chosen by dom0 code, never guest data.
    std::vector<std::pair<std::string, std::string>> backend_settings;
};

struct PvDevicePaths {
    std::string backend;  // /local/domain/<backend>/backend/<type>/<frontend>/<devid>
    std::string frontend; // /local/domain/<frontend>/device/<type>/<devid>
};

[[nodiscard]] const char* xenstore_type_name(PvDeviceType type) noexcept;
[[nodiscard]] PvDevicePaths pv_device_paths(xen::DomId frontend, const PvDevice& device);

class PvDevicePlumber {
public:
    explicit PvDevicePlumber(xen::XenStore& store) : store_(store) {}

    // Creates both directories in state Initialising with the permissions that let each side
    // write only its own directory and read the other's; no third domain can read either.
    void plumb(xen::DomId frontend, const PvDevice& device);
    // Removes both directories (the device disappears for both ends).
    void unplumb(xen::DomId frontend, const PvDevice& device);
    [[nodiscard]] bool plumbed(xen::DomId frontend, const PvDevice& device);

private:
    xen::XenStore& store_;
};

} // namespace twofold::manager
