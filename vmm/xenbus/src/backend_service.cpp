#include "twofold/xenbus/backend_service.h"

#include <exception>
#include <iterator>
#include <string>
#include <vector>

#include <spdlog/spdlog.h>

#include "twofold/xenbus/xenstore_values.h"

namespace twofold::xenbus {

BackendService::BackendService(BackendServices services, xen::DomId self, DeviceType type, DeviceFactory factory)
    : services_(std::move(services)), self_(self), type_(type), factory_(std::move(factory)) {}

BackendService::~BackendService() {
    backend_watch_.reset();
    release_watch_.reset();
    connections_.clear();
}

void BackendService::start() {
    backend_watch_ = services_.watches.watch(backend_type_dir(self_, type_), [this](const std::string&) { rescan(); });
    release_watch_ = services_.watches.watch("@releaseDomain", [this](const std::string&) { on_release_domain(); });
}

const FrontendConnection* BackendService::find(xen::DomId frontend, std::uint32_t devid) const {
    const auto found = connections_.find({frontend, devid});
    return found == connections_.end() ? nullptr : found->second.get();
}

std::set<BackendService::Key> BackendService::list_entries() {
    std::set<Key> entries;
    const auto type_dir = backend_type_dir(self_, type_);
    for (const auto& untrusted_domid : services_.store.list(type_dir)) {
        auto domid = parse_domid(untrusted_domid);
        if (!domid) {
            services_.log->warn("{}: skipping entry: {}", type_dir, domid.error().message);
            continue;
        }
        const auto domain_dir = type_dir + "/" + std::to_string(domid.value());
        for (const auto& untrusted_devid : services_.store.list(domain_dir)) {
            auto devid = parse_devid(untrusted_devid);
            if (!devid) {
                services_.log->warn("{}: skipping entry: {}", domain_dir, devid.error().message);
                continue;
            }
            entries.emplace(domid.value(), devid.value());
        }
    }
    return entries;
}

void BackendService::rescan() {
    std::set<Key> entries;
    try {
        entries = list_entries();
    } catch (const std::exception& e) {
        services_.log->error("{}: listing frontends failed: {}", to_string(type_), e.what());
        return;
    }
    for (auto it = connections_.begin(); it != connections_.end();) {
        if (entries.contains(it->first)) {
            ++it;
            continue;
        }
        services_.log->info("{} {}/{}: entry removed, tearing down", to_string(type_), it->first.first,
                            it->first.second);
        it = connections_.erase(it);
    }
    std::erase_if(retired_, [&](const Key& key) { return !entries.contains(key); });
    for (const auto& key : entries) {
        if (connections_.contains(key) || retired_.contains(key)) continue;
        if (key.first == self_ || key.first >= xen::kFirstReservedDomId) continue;
        DevicePaths paths(self_, key.first, type_, key.second);
        // The toolstack writes the backend directory node by node and its "state" last (there
        // are no transactions on this path): an entry without it is still being written, and
        // the write of "state" wakes this scan again. Seen on the board: a backend that looked
        // earlier refused the device for a missing "frontend" node, for good.
        if (!toolstack_done(paths)) continue;
        auto device = factory_(paths);
        if (!device) {
            services_.log->warn("{} {}/{}: no device for this frontend", to_string(type_), key.first, key.second);
            retired_.insert(key);
            continue;
        }
        auto connection = std::make_unique<FrontendConnection>(
            services_, paths, std::move(device), [this](const DevicePaths& finished) { on_finished(finished); });
        auto* raw = connection.get();
        connections_.emplace(key, std::move(connection));
        services_.log->info("{} {}/{}: frontend discovered", to_string(type_), key.first, key.second);
        raw->start();
    }
}

bool BackendService::toolstack_done(const DevicePaths& paths) {
    try {
        return services_.store.read(paths.backend_node("state")).has_value();
    } catch (const std::exception& e) {
        services_.log->warn("{} {}/{}: cannot read the backend state: {}", to_string(type_), paths.frontend_domid(),
                            paths.devid(), e.what());
        return false;
    }
}

void BackendService::on_release_domain() {
    // @releaseDomain says only that some domain died: check each domain we serve.
    for (auto it = connections_.begin(); it != connections_.end();) {
        bool alive = true;
        try {
            alive = services_.store.read(domain_path(it->first.first)).has_value();
        } catch (const std::exception&) {
            alive = true; // unreadable is not gone; the entry's removal will tear it down
        }
        if (alive) {
            ++it;
            continue;
        }
        services_.log->info("{} {}/{}: domain released, tearing down", to_string(type_), it->first.first,
                            it->first.second);
        retired_.insert(it->first);
        it = connections_.erase(it);
    }
}

void BackendService::on_finished(const DevicePaths& paths) {
    const Key key{paths.frontend_domid(), paths.devid()};
    const auto found = connections_.find(key);
    if (found == connections_.end() || found->second->paths() != paths) return;
    services_.log->info("{} {}/{}: handler finished", to_string(type_), key.first, key.second);
    retired_.insert(key);
    connections_.erase(found);
}

} // namespace twofold::xenbus
