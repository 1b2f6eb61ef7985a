#pragma once
// Frontend discovery for one device type: watches /local/domain/<self>/backend/<type> for the
// toolstack's (domid, devid) entries and keeps exactly one FrontendConnection per entry,
// created through a factory. Tears a connection down when its entry is removed, when it
// finishes (refused, frontend gone, Closed while offline), and when its domain is released
// (@releaseDomain and the domain's xenstore directory gone). Domids and devids come from
// directory listings through the validated parsers; malformed entries are logged and skipped.
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <utility>

#include "twofold/xenbus/device.h"
#include "twofold/xenbus/device_paths.h"
#include "twofold/xenbus/frontend_connection.h"

namespace twofold::xenbus {

class BackendService {
public:
    // Returns the device for a newly discovered frontend, or nullptr to refuse it.
    using DeviceFactory = std::function<std::unique_ptr<Device>(const DevicePaths&)>;
    using Key = std::pair<xen::DomId, std::uint32_t>; // (frontend domid, devid)

    BackendService(BackendServices services, xen::DomId self, DeviceType type, DeviceFactory factory);
    ~BackendService();
    BackendService(const BackendService&) = delete;
    BackendService& operator=(const BackendService&) = delete;

    void start();

    [[nodiscard]] std::size_t connection_count() const noexcept { return connections_.size(); }
    [[nodiscard]] const FrontendConnection* find(xen::DomId frontend, std::uint32_t devid) const;

private:
    void rescan();
    bool toolstack_done(const DevicePaths& paths);
    std::set<Key> list_entries();
    void on_release_domain();
    void on_finished(const DevicePaths& paths);

    BackendServices services_;
    xen::DomId self_;
    DeviceType type_;
    DeviceFactory factory_;
    std::map<Key, std::unique_ptr<FrontendConnection>> connections_;
    // Entries we finished with: not recreated until the toolstack removes the entry, so a
    // refused or closed device does not spin through create/refuse cycles.
    std::set<Key> retired_;
    AsioXenstoreWatch::Subscription backend_watch_;
    AsioXenstoreWatch::Subscription release_watch_;
};

} // namespace twofold::xenbus
