#pragma once
// The in-process xenstored: one tree, many connections (one per XenStore handle), each with
// its own watches and bounded event queue whose eventfd is readable while events are pending.
//
// Queue overflow: an event whose (path, token) is already queued is coalesced into it (a
// watch event only says "look again"). When a connection's queue is full, the event is not
// queued; instead its watch is marked overflowed and, on the next take, the consumer receives
// one event naming the watched path itself, meaning "something at or below changed: rescan".
// So memory stays bounded by (queue limit + watch limit) and no change ever goes unreported,
// unlike xenstored's own XSA-326 policy of silently dropping events past the quota.
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "twofold/loopback/hypervisor.h"
#include "twofold/xen/xenstore.h"
#include "twofold/xen/unique_fd.h"
#include "xenstore_tree.h"

namespace twofold::loopback::detail {

using xen::UniqueFd;

class XenStoreService : public std::enable_shared_from_this<XenStoreService> {
public:
    using ConnectionId = std::uint64_t;

    explicit XenStoreService(const Limits& limits);

    std::unique_ptr<xen::XenStore> connect(xen::DomId domid);

    // What the toolstack and Xen do around a domain's life (see Hypervisor).
    void introduce_domain(xen::DomId domid, const std::string& name);
    void release_domain(xen::DomId domid);

    [[nodiscard]] std::size_t open_connections() const;

    // The XenStore interface, on behalf of one connection.
    std::optional<std::string> read(ConnectionId id, const std::string& path);
    void write(ConnectionId id, const std::string& path, std::string_view value);
    void mkdir(ConnectionId id, const std::string& path);
    void remove(ConnectionId id, const std::string& path);
    std::vector<std::string> list(ConnectionId id, const std::string& path);
    void set_permissions(ConnectionId id, const std::string& path, std::span<const xen::Permission> perms);
    std::optional<std::vector<xen::Permission>> get_permissions(ConnectionId id, const std::string& path);
    void watch(ConnectionId id, const std::string& path, const std::string& token);
    void unwatch(ConnectionId id, const std::string& path, const std::string& token);
    [[nodiscard]] int watch_fd(ConnectionId id) const;
    std::vector<xen::WatchEvent> take_watch_events(ConnectionId id);
    void disconnect(ConnectionId id) noexcept;

private:
    using Watch = std::pair<std::string, std::string>; // (path, token)

    struct Connection {
        xen::DomId domid;
        UniqueFd eventfd;
        std::set<Watch> watches;
        std::deque<xen::WatchEvent> events;
        std::set<Watch> queued;     // (event path, token) of queued events, for coalescing
        std::set<Watch> overflowed; // watches that lost events to a full queue
    };

    Connection& connection_locked(ConnectionId id, const char* operation);
    void push_locked(Connection& connection, const Watch& watch, const std::string& path);
    void fire_locked(const NodeChange& change);
    void fire_special_locked(const std::string& name);
    void signal_locked(Connection& connection);

    Limits limits_;
    mutable std::mutex mutex_;
    XenStoreTree tree_;
    std::map<ConnectionId, Connection> connections_;
    std::set<xen::DomId> released_;
    ConnectionId next_id_ = 1;
};

} // namespace twofold::loopback::detail
