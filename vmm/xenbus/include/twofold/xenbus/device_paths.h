#pragma once
// Every xenstore path a backend touches is built here, from numbers we validated and constant
// names: never from a guest-written string. The frontend path is what the toolstack must have
// recorded in the backend directory; check_toolstack_links() refuses the device otherwise.
#include <cstdint>
#include <string>
#include <string_view>

#include "twofold/xen/types.h"
#include "twofold/xen/xenstore.h"
#include "twofold/xenbus/result.h"

namespace twofold::xenbus {

enum class DeviceType : std::uint8_t {
    Vfb,     // xen/io/fbif.h
    Vkbd,    // xen/io/kbdif.h
    Console, // xen/io/console.h
    Vdispl,  // xen/io/displif.h
    Echo,    // twofold's reference request/response device (bring-up and the hostile suite)
    Vsnd,    // xen/io/sndif.h
};
std::string_view to_string(DeviceType type) noexcept;

std::string domain_path(xen::DomId domid);
// /local/domain/<backend>/backend/<type>: where the toolstack lists our frontends.
std::string backend_type_dir(xen::DomId backend, DeviceType type);

class DevicePaths {
public:
    // Throws std::invalid_argument for a reserved domid: callers pass parsed values only.
    DevicePaths(xen::DomId backend, xen::DomId frontend, DeviceType type, std::uint32_t devid);

    [[nodiscard]] xen::DomId backend_domid() const noexcept { return backend_domid_; }
    [[nodiscard]] xen::DomId frontend_domid() const noexcept { return frontend_domid_; }
    [[nodiscard]] DeviceType type() const noexcept { return type_; }
    [[nodiscard]] std::uint32_t devid() const noexcept { return devid_; }

    // /local/domain/<be>/backend/<type>/<fe>/<devid>
    [[nodiscard]] const std::string& backend() const noexcept { return backend_; }
    // /local/domain/<fe>/device/<type>/<devid>; the first console is /local/domain/<fe>/console.
    [[nodiscard]] const std::string& frontend() const noexcept { return frontend_; }
    [[nodiscard]] std::string backend_node(std::string_view name) const { return backend_ + "/" + std::string(name); }
    [[nodiscard]] std::string frontend_node(std::string_view name) const { return frontend_ + "/" + std::string(name); }

    friend bool operator==(const DevicePaths&, const DevicePaths&) = default;

private:
    xen::DomId backend_domid_;
    xen::DomId frontend_domid_;
    DeviceType type_;
    std::uint32_t devid_;
    std::string backend_;
    std::string frontend_;
};

// The toolstack writes <backend>/frontend and <backend>/frontend-id; both must name exactly
// the frontend we derived. Anything else (a stale entry, a tampered node) refuses the device.
Result<void> check_toolstack_links(xen::XenStore& store, const DevicePaths& paths);

} // namespace twofold::xenbus
