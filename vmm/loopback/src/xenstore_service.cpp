#include "xenstore_service.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "twofold/xen/error.h"
#include "xenstore_path.h"

namespace twofold::loopback::detail {
namespace {

using Kind = xen::Permission::Kind;

// One XenStore handle: a connection to the service.
class LoopbackXenStore final : public xen::XenStore {
public:
    LoopbackXenStore(std::shared_ptr<XenStoreService> service, XenStoreService::ConnectionId id)
        : service_(std::move(service)), id_(id) {}
    ~LoopbackXenStore() override { service_->disconnect(id_); }
    LoopbackXenStore(const LoopbackXenStore&) = delete;
    LoopbackXenStore& operator=(const LoopbackXenStore&) = delete;
    LoopbackXenStore(LoopbackXenStore&&) = delete;
    LoopbackXenStore& operator=(LoopbackXenStore&&) = delete;

    std::optional<std::string> read(const std::string& path) override { return service_->read(id_, path); }
    void write(const std::string& path, std::string_view value) override { service_->write(id_, path, value); }
    void mkdir(const std::string& path) override { service_->mkdir(id_, path); }
    void remove(const std::string& path) override { service_->remove(id_, path); }
    std::vector<std::string> list(const std::string& path) override { return service_->list(id_, path); }
    void set_permissions(const std::string& path, std::span<const xen::Permission> perms) override {
        service_->set_permissions(id_, path, perms);
    }
    std::optional<std::vector<xen::Permission>> get_permissions(const std::string& path) override {
        return service_->get_permissions(id_, path);
    }
    void watch(const std::string& path, const std::string& token) override { service_->watch(id_, path, token); }
    void unwatch(const std::string& path, const std::string& token) override {
        service_->unwatch(id_, path, token);
    }
    [[nodiscard]] int watch_fd() const override { return service_->watch_fd(id_); }
    std::vector<xen::WatchEvent> take_watch_events() override { return service_->take_watch_events(id_); }

private:
    std::shared_ptr<XenStoreService> service_;
    const XenStoreService::ConnectionId id_;
};

std::string domain_path(xen::DomId domid) { return "/local/domain/" + std::to_string(domid); }

} // namespace

XenStoreService::XenStoreService(const Limits& limits) : limits_(limits), tree_(limits) {
    tree_.mkdir(xen::kDom0, "/local/domain/0");
    tree_.mkdir(xen::kDom0, "/tool");
}

std::unique_ptr<xen::XenStore> XenStoreService::connect(xen::DomId domid) {
    UniqueFd eventfd(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
    if (eventfd.get() < 0) {
        xen::throw_errno("xs_open");
    }
    const std::scoped_lock lock(mutex_);
    if (released_.contains(domid)) {
        throw xen::XenError(ESRCH, "xs_open");
    }
    const ConnectionId id = next_id_++;
    connections_.emplace(id, Connection{.domid = domid, .eventfd = std::move(eventfd), .watches = {}, .events = {},
                                        .queued = {}, .overflowed = {}});
    return std::make_unique<LoopbackXenStore>(shared_from_this(), id);
}

void XenStoreService::disconnect(ConnectionId id) noexcept {
    const std::scoped_lock lock(mutex_);
    connections_.erase(id);
}

std::size_t XenStoreService::open_connections() const {
    const std::scoped_lock lock(mutex_);
    return connections_.size();
}

XenStoreService::Connection& XenStoreService::connection_locked(ConnectionId id, const char* operation) {
    auto found = connections_.find(id);
    if (found == connections_.end() || released_.contains(found->second.domid)) {
        throw xen::XenError(ESRCH, operation);
    }
    return found->second;
}

void XenStoreService::introduce_domain(xen::DomId domid, const std::string& name) {
    const std::scoped_lock lock(mutex_);
    // As libxl lays a new domain out: its home readable (not writable) by it, its name, and
    // the directories the guest itself writes (frontends under device/, data/).
    const std::string home = domain_path(domid);
    const std::vector<xen::Permission> read_only{{xen::kDom0, Kind::None}, {domid, Kind::Read}};
    const std::vector<xen::Permission> owned{{domid, Kind::None}};
    fire_locked(tree_.write(xen::kDom0, home, ""));
    fire_locked(tree_.set_permissions(xen::kDom0, home, read_only));
    fire_locked(tree_.write(xen::kDom0, home + "/name", name));
    for (const char* dir : {"/device", "/data", "/control"}) {
        fire_locked(tree_.write(xen::kDom0, home + dir, ""));
        fire_locked(tree_.set_permissions(xen::kDom0, home + dir, owned));
    }
    fire_special_locked("@introduceDomain");
}

void XenStoreService::release_domain(xen::DomId domid) {
    const std::scoped_lock lock(mutex_);
    released_.insert(domid);
    for (auto& [id, connection] : connections_) {
        if (connection.domid == domid) {
            connection.watches.clear();
            connection.events.clear();
            connection.queued.clear();
            connection.overflowed.clear();
        }
    }
    for (const auto& change : tree_.remove(xen::kDom0, domain_path(domid))) {
        fire_locked(change);
    }
    fire_special_locked("@releaseDomain");
}

void XenStoreService::signal_locked(Connection& connection) {
    const std::uint64_t one = 1;
    [[maybe_unused]] const auto written = ::write(connection.eventfd.get(), &one, sizeof one);
}

void XenStoreService::push_locked(Connection& connection, const Watch& watch, const std::string& path) {
    const bool was_idle = connection.events.empty() && connection.overflowed.empty();
    Watch key{path, watch.second};
    if (connection.queued.contains(key)) {
        return; // the queued event already tells the consumer to look at this node
    }
    if (connection.events.size() >= limits_.max_queued_watch_events) {
        connection.overflowed.insert(watch);
    } else {
        connection.events.push_back({path, watch.second});
        connection.queued.insert(std::move(key));
    }
    if (was_idle) {
        signal_locked(connection);
    }
}

void XenStoreService::fire_locked(const NodeChange& change) {
    for (auto& [id, connection] : connections_) {
        const bool visible = XenStoreTree::can_read(connection.domid, change.perms) ||
                             (change.old_perms && XenStoreTree::can_read(connection.domid, *change.old_perms));
        if (!visible) {
            continue;
        }
        for (const auto& watch : connection.watches) {
            const bool matches = change.exact ? watch.first == change.path : is_at_or_below(change.path, watch.first);
            if (matches) {
                push_locked(connection, watch, change.path);
            }
        }
    }
}

void XenStoreService::fire_special_locked(const std::string& name) {
    // The special nodes belong to dom0 with no access for others, as xenstored sets them up:
    // only dom0 learns when domains come and go.
    for (auto& [id, connection] : connections_) {
        if (connection.domid != xen::kDom0) {
            continue;
        }
        for (const auto& watch : connection.watches) {
            if (watch.first == name) {
                push_locked(connection, watch, name);
            }
        }
    }
}

std::optional<std::string> XenStoreService::read(ConnectionId id, const std::string& path) {
    const std::scoped_lock lock(mutex_);
    return tree_.read(connection_locked(id, "xs_read").domid, path);
}

void XenStoreService::write(ConnectionId id, const std::string& path, std::string_view value) {
    const std::scoped_lock lock(mutex_);
    fire_locked(tree_.write(connection_locked(id, "xs_write").domid, path, value));
}

void XenStoreService::mkdir(ConnectionId id, const std::string& path) {
    const std::scoped_lock lock(mutex_);
    if (auto change = tree_.mkdir(connection_locked(id, "xs_mkdir").domid, path)) {
        fire_locked(*change);
    }
}

void XenStoreService::remove(ConnectionId id, const std::string& path) {
    const std::scoped_lock lock(mutex_);
    for (const auto& change : tree_.remove(connection_locked(id, "xs_rm").domid, path)) {
        fire_locked(change);
    }
}

std::vector<std::string> XenStoreService::list(ConnectionId id, const std::string& path) {
    const std::scoped_lock lock(mutex_);
    auto names = tree_.list(connection_locked(id, "xs_directory").domid, path);
    return names ? std::move(*names) : std::vector<std::string>{};
}

void XenStoreService::set_permissions(ConnectionId id, const std::string& path,
                                      std::span<const xen::Permission> perms) {
    const std::scoped_lock lock(mutex_);
    fire_locked(tree_.set_permissions(connection_locked(id, "xs_set_permissions").domid, path, perms));
}

std::optional<std::vector<xen::Permission>> XenStoreService::get_permissions(ConnectionId id, const std::string& path) {
    const std::scoped_lock lock(mutex_);
    return tree_.get_permissions(connection_locked(id, "xs_get_permissions").domid, path);
}

void XenStoreService::watch(ConnectionId id, const std::string& path, const std::string& token) {
    validate_watch_path(path, "xs_watch");
    if (path.size() + token.size() + 2 > kMaxPayload) {
        throw xen::XenError(E2BIG, "xs_watch");
    }
    const std::scoped_lock lock(mutex_);
    Connection& connection = connection_locked(id, "xs_watch");
    Watch watch{path, token};
    if (connection.watches.contains(watch)) {
        throw xen::XenError(EEXIST, "xs_watch");
    }
    if (connection.domid != xen::kDom0 && connection.watches.size() >= limits_.max_watches_per_connection) {
        throw xen::XenError(E2BIG, "xs_watch");
    }
    connection.watches.insert(watch);
    // xenstored fires every new watch once, whatever exists at the path.
    push_locked(connection, watch, path);
}

void XenStoreService::unwatch(ConnectionId id, const std::string& path, const std::string& token) {
    validate_watch_path(path, "xs_unwatch");
    const std::scoped_lock lock(mutex_);
    Connection& connection = connection_locked(id, "xs_unwatch");
    const Watch watch{path, token};
    if (connection.watches.erase(watch) == 0) {
        throw xen::XenError(ENOENT, "xs_unwatch");
    }
    // As libxenstore's XS_UNWATCH_FILTER: no event of a removed watch is delivered afterwards.
    // (Another watch with the same token and an overlapping path keeps its events.)
    const auto still_watched = [&](const xen::WatchEvent& event) {
        return std::any_of(connection.watches.begin(), connection.watches.end(), [&](const Watch& other) {
            return other.second == event.token &&
                   (is_special_path(other.first) ? other.first == event.path : is_at_or_below(event.path, other.first));
        });
    };
    std::erase_if(connection.events, [&](const xen::WatchEvent& event) {
        const bool of_removed = event.token == token &&
                                (is_special_path(path) ? event.path == path : is_at_or_below(event.path, path));
        if (of_removed && !still_watched(event)) {
            connection.queued.erase({event.path, event.token});
            return true;
        }
        return false;
    });
    connection.overflowed.erase(watch);
}

int XenStoreService::watch_fd(ConnectionId id) const {
    const std::scoped_lock lock(mutex_);
    auto found = connections_.find(id);
    if (found == connections_.end()) {
        throw xen::XenError(EBADF, "xs_fileno");
    }
    return found->second.eventfd.get();
}

std::vector<xen::WatchEvent> XenStoreService::take_watch_events(ConnectionId id) {
    const std::scoped_lock lock(mutex_);
    auto found = connections_.find(id);
    if (found == connections_.end()) {
        throw xen::XenError(EBADF, "xs_check_watch");
    }
    Connection& connection = found->second;
    std::vector<xen::WatchEvent> events(std::make_move_iterator(connection.events.begin()),
                                        std::make_move_iterator(connection.events.end()));
    for (const auto& [path, token] : connection.overflowed) {
        events.push_back({path, token});
    }
    connection.events.clear();
    connection.queued.clear();
    connection.overflowed.clear();
    std::uint64_t count = 0;
    [[maybe_unused]] const auto got = ::read(connection.eventfd.get(), &count, sizeof count);
    return events;
}

} // namespace twofold::loopback::detail
