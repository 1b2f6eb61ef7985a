#pragma once
// Event channels with Linux evtchn-device semantics: each handle has an eventfd that is
// readable while some of its ports fired; a fired port stays masked until unmask(), and a
// notification that arrives while masked is remembered (one pending bit) and delivered on
// unmask. Ports are allocated per domain from 1 upwards, as in Xen.
#include <cstddef>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>

#include "twofold/loopback/hypervisor.h"
#include "twofold/xen/event_channel.h"
#include "twofold/xen/types.h"
#include "twofold/xen/unique_fd.h"

namespace twofold::loopback::detail {

using xen::UniqueFd;

class Machine;

// The fired-port queue of one handle, and its eventfd.
class Inbox {
public:
    Inbox();
    [[nodiscard]] int fd() const noexcept { return eventfd_.get(); }
    void deliver(xen::Port port);
    std::optional<xen::Port> pop();

private:
    UniqueFd eventfd_;
    std::mutex mutex_;
    std::deque<xen::Port> fired_;
};

// One port of one domain. Endpoint state is guarded by its own mutex so the notify path never
// takes the hub-wide lock.
class Endpoint {
public:
    Endpoint(xen::DomId domid, xen::Port port, std::shared_ptr<Inbox> inbox, xen::DomId remote)
        : domid_(domid), port_(port), inbox_(std::move(inbox)), remote_domid_(remote) {}

    [[nodiscard]] xen::DomId domid() const noexcept { return domid_; }
    [[nodiscard]] xen::Port port() const noexcept { return port_; }

    // Sends to the connected peer, if any (a notification on an unbound port is dropped, as
    // in Xen). Throws XenError(EBADF) once this port was freed under its owner.
    void notify();
    void unmask();
    // A notification arriving on this port.
    void fire();

    [[nodiscard]] PortState state() const;

private:
    friend class EventChannelHub;

    const xen::DomId domid_;
    const xen::Port port_;
    const std::shared_ptr<Inbox> inbox_;
    mutable std::mutex mutex_;
    PortState state_ = PortState::Unbound;
    xen::DomId remote_domid_;
    xen::Port remote_port_ = 0;
    std::shared_ptr<Endpoint> peer_; // set while Connected; cleared on close to break the cycle
    bool masked_ = false;
    bool pending_ = false;
};

// The machine-wide port tables.
class EventChannelHub : public std::enable_shared_from_this<EventChannelHub> {
public:
    EventChannelHub(const Limits& limits, std::shared_ptr<Machine> machine);

    std::unique_ptr<xen::EventChannel> open(xen::DomId domid);

    std::shared_ptr<Endpoint> bind_unbound(xen::DomId local, xen::DomId remote, std::shared_ptr<Inbox> inbox);
    std::shared_ptr<Endpoint> bind_interdomain(xen::DomId local, xen::DomId remote, xen::Port remote_port,
                                               std::shared_ptr<Inbox> inbox);
    void free(const std::shared_ptr<Endpoint>& endpoint) noexcept;
    // The domain died: every port it had is freed; connected remote ends become unbound.
    void close_domain(xen::DomId domid) noexcept;

    [[nodiscard]] PortState state(xen::DomId domid, xen::Port port) const;
    [[nodiscard]] std::size_t bound_ports(xen::DomId domid) const;
    [[nodiscard]] std::size_t open_handles() const;
    void handle_closed() noexcept;

private:
    xen::Port allocate_port_locked(xen::DomId domid, const char* operation);
    void free_locked(const std::shared_ptr<Endpoint>& endpoint) noexcept;

    Limits limits_;
    std::shared_ptr<Machine> machine_;
    mutable std::mutex mutex_;
    std::map<xen::DomId, std::map<xen::Port, std::shared_ptr<Endpoint>>> ports_;
    std::size_t open_handles_ = 0;
};

} // namespace twofold::loopback::detail
