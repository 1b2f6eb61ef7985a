#include "twofold/manager/pv_devices.h"

#include <array>

#include <fmt/format.h>

namespace twofold::manager {
namespace {

// XenbusStateInitialising (xen/io/xenbus.h).
constexpr const char* kStateInitialising = "1";

} // namespace

const char* xenstore_type_name(PvDeviceType type) noexcept {
    switch (type) {
    case PvDeviceType::Vfb: return "vfb";
    case PvDeviceType::Vkbd: return "vkbd";
    case PvDeviceType::Console: return "console";
    }
    return "invalid";
}

PvDevicePaths pv_device_paths(xen::DomId frontend, const PvDevice& device) {
    const char* type = xenstore_type_name(device.type);
    return {fmt::format("/local/domain/{}/backend/{}/{}/{}", device.backend_domid, type, frontend, device.devid),
            fmt::format("/local/domain/{}/device/{}/{}", frontend, type, device.devid)};
}

void PvDevicePlumber::plumb(xen::DomId frontend, const PvDevice& device) {
    const auto paths = pv_device_paths(frontend, device);
    using Kind = xen::Permission::Kind;
    // Owner first: the owner has full access and the first entry's kind applies to everyone
    // not listed (None); the peer end may only read.
    const std::array backend_perms{xen::Permission{device.backend_domid, Kind::None}, xen::Permission{frontend, Kind::Read}};
    const std::array frontend_perms{xen::Permission{frontend, Kind::None}, xen::Permission{device.backend_domid, Kind::Read}};

    // Start clean: stale nodes from an earlier life of this device could carry a guest's old
    // values (ring-ref, state) into the new connection.
    store_.remove(paths.backend);
    store_.remove(paths.frontend);

    store_.mkdir(paths.backend);
    store_.set_permissions(paths.backend, backend_perms);
    store_.write(paths.backend + "/frontend", paths.frontend);
    store_.write(paths.backend + "/frontend-id", std::to_string(frontend));
    store_.write(paths.backend + "/online", "1");
    for (const auto& [key, value] : device.backend_settings) {
        store_.write(paths.backend + "/" + key, value);
    }
    store_.write(paths.backend + "/state", kStateInitialising);

    store_.mkdir(paths.frontend);
    store_.set_permissions(paths.frontend, frontend_perms);
    store_.write(paths.frontend + "/backend", paths.backend);
    store_.write(paths.frontend + "/backend-id", std::to_string(device.backend_domid));
    store_.write(paths.frontend + "/state", kStateInitialising);
}

void PvDevicePlumber::unplumb(xen::DomId frontend, const PvDevice& device) {
    const auto paths = pv_device_paths(frontend, device);
    store_.remove(paths.frontend);
    store_.remove(paths.backend);
}

bool PvDevicePlumber::plumbed(xen::DomId frontend, const PvDevice& device) {
    const auto paths = pv_device_paths(frontend, device);
    return store_.read(paths.backend + "/frontend").has_value() && store_.read(paths.frontend + "/backend").has_value();
}

} // namespace twofold::manager
