#include "twofold/xenbus/device_paths.h"

#include <stdexcept>

#include "twofold/xenbus/node_reader.h"
#include "twofold/xenbus/xenstore_values.h"

namespace twofold::xenbus {

std::string_view to_string(DeviceType type) noexcept {
    switch (type) {
    case DeviceType::Vfb: return "vfb";
    case DeviceType::Vkbd: return "vkbd";
    case DeviceType::Console: return "console";
    case DeviceType::Vdispl: return "vdispl";
    case DeviceType::Echo: return "twofold-echo";
    case DeviceType::Vsnd: return "vsnd";
    }
    return "invalid";
}

std::string domain_path(xen::DomId domid) { return "/local/domain/" + std::to_string(domid); }

std::string backend_type_dir(xen::DomId backend, DeviceType type) {
    return domain_path(backend) + "/backend/" + std::string(to_string(type));
}

DevicePaths::DevicePaths(xen::DomId backend, xen::DomId frontend, DeviceType type, std::uint32_t devid)
    : backend_domid_(backend), frontend_domid_(frontend), type_(type), devid_(devid) {
    if (backend >= xen::kFirstReservedDomId || frontend >= xen::kFirstReservedDomId) {
        throw std::invalid_argument("DevicePaths: reserved domid");
    }
    const auto devid_text = std::to_string(devid);
    backend_ = backend_type_dir(backend, type) + "/" + std::to_string(frontend) + "/" + devid_text;
    // libxl places the first console at the domain's top-level console directory.
    frontend_ = type == DeviceType::Console && devid == 0
                    ? domain_path(frontend) + "/console"
                    : domain_path(frontend) + "/device/" + std::string(to_string(type)) + "/" + devid_text;
}

Result<void> check_toolstack_links(xen::XenStore& store, const DevicePaths& paths) {
    const NodeReader backend(store, paths.backend());
    auto frontend = backend.read_untrusted("frontend");
    if (!frontend) return frontend.error();
    if (frontend.value() != paths.frontend()) {
        return Error{backend.path_of("frontend") + ": names \"" + excerpt(frontend.value()) + "\", expected " +
                     paths.frontend()};
    }
    auto frontend_id = backend.read("frontend-id", parse_domid);
    if (!frontend_id) return frontend_id.error();
    if (frontend_id.value() != paths.frontend_domid()) {
        return Error{backend.path_of("frontend-id") + ": names domain " + std::to_string(frontend_id.value()) +
                     ", expected " + std::to_string(paths.frontend_domid())};
    }
    return {};
}

} // namespace twofold::xenbus
