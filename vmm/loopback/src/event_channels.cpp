#include "event_channels.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <utility>
#include <vector>

#include "machine.h"
#include "twofold/xen/error.h"

namespace twofold::loopback::detail {

Inbox::Inbox() : eventfd_(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {
    if (eventfd_.get() < 0) {
        xen::throw_errno("eventfd");
    }
}

void Inbox::deliver(xen::Port port) {
    bool was_empty = false;
    {
        const std::scoped_lock lock(mutex_);
        was_empty = fired_.empty();
        fired_.push_back(port);
    }
    // Only the empty -> non-empty transition needs a wake-up: the fd stays readable until the
    // queue is drained, which keeps the hot path at one syscall per burst.
    if (was_empty) {
        const std::uint64_t one = 1;
        [[maybe_unused]] const auto written = ::write(eventfd_.get(), &one, sizeof one);
    }
}

std::optional<xen::Port> Inbox::pop() {
    const std::scoped_lock lock(mutex_);
    std::optional<xen::Port> port;
    if (!fired_.empty()) {
        port = fired_.front();
        fired_.pop_front();
    }
    if (fired_.empty()) {
        std::uint64_t count = 0;
        [[maybe_unused]] const auto got = ::read(eventfd_.get(), &count, sizeof count);
    }
    return port;
}

void Endpoint::notify() {
    std::shared_ptr<Endpoint> peer;
    {
        const std::scoped_lock lock(mutex_);
        if (state_ == PortState::Free) {
            throw xen::XenError(EBADF, "xenevtchn_notify");
        }
        peer = peer_;
    }
    if (peer) {
        peer->fire();
    }
}

void Endpoint::fire() {
    {
        const std::scoped_lock lock(mutex_);
        if (state_ == PortState::Free) {
            return;
        }
        if (masked_) {
            pending_ = true;
            return;
        }
        masked_ = true;
    }
    inbox_->deliver(port_);
}

void Endpoint::unmask() {
    {
        const std::scoped_lock lock(mutex_);
        if (state_ == PortState::Free) {
            throw xen::XenError(EBADF, "xenevtchn_unmask");
        }
        if (!pending_) {
            masked_ = false;
            return;
        }
        // A notification arrived while masked: deliver it now and stay masked for it.
        pending_ = false;
    }
    inbox_->deliver(port_);
}

PortState Endpoint::state() const {
    const std::scoped_lock lock(mutex_);
    return state_;
}

namespace {

// One evtchn handle of one domain: the ports it bound and its inbox.
class LoopbackEventChannel final : public xen::EventChannel {
public:
    LoopbackEventChannel(std::shared_ptr<EventChannelHub> hub, xen::DomId domid)
        : hub_(std::move(hub)), domid_(domid), inbox_(std::make_shared<Inbox>()) {}

    ~LoopbackEventChannel() override {
        for (auto& [port, endpoint] : bound_) {
            hub_->free(endpoint);
        }
        hub_->handle_closed();
    }
    LoopbackEventChannel(const LoopbackEventChannel&) = delete;
    LoopbackEventChannel& operator=(const LoopbackEventChannel&) = delete;
    LoopbackEventChannel(LoopbackEventChannel&&) = delete;
    LoopbackEventChannel& operator=(LoopbackEventChannel&&) = delete;

    // The handle lock is held across the bind so the port is known to pending() before the
    // remote end can fire it.
    xen::Port bind_interdomain(xen::DomId remote, xen::Port remote_port) override {
        const std::scoped_lock lock(mutex_);
        return remember_locked(hub_->bind_interdomain(domid_, remote, remote_port, inbox_));
    }

    xen::Port bind_unbound(xen::DomId remote) override {
        const std::scoped_lock lock(mutex_);
        return remember_locked(hub_->bind_unbound(domid_, remote, inbox_));
    }

    void unbind(xen::Port local) override {
        std::shared_ptr<Endpoint> endpoint;
        {
            const std::scoped_lock lock(mutex_);
            auto found = bound_.find(local);
            if (found == bound_.end()) {
                throw xen::XenError(EINVAL, "xenevtchn_unbind");
            }
            endpoint = std::move(found->second);
            bound_.erase(found);
        }
        hub_->free(endpoint);
    }

    void notify(xen::Port local) override { find(local, "xenevtchn_notify")->notify(); }

    [[nodiscard]] int fd() const override { return inbox_->fd(); }

    std::optional<xen::Port> pending() override {
        // A port unbound after it fired may still sit in the inbox: skip it, as it is no
        // longer this handle's to report.
        while (auto port = inbox_->pop()) {
            const std::scoped_lock lock(mutex_);
            if (bound_.contains(*port)) {
                return port;
            }
        }
        return std::nullopt;
    }

    void unmask(xen::Port local) override { find(local, "xenevtchn_unmask")->unmask(); }

private:
    xen::Port remember_locked(std::shared_ptr<Endpoint> endpoint) {
        const xen::Port port = endpoint->port();
        bound_.emplace(port, std::move(endpoint));
        return port;
    }

    std::shared_ptr<Endpoint> find(xen::Port local, const char* operation) const {
        const std::scoped_lock lock(mutex_);
        auto found = bound_.find(local);
        if (found == bound_.end()) {
            throw xen::XenError(EINVAL, operation);
        }
        return found->second;
    }

    std::shared_ptr<EventChannelHub> hub_;
    const xen::DomId domid_;
    std::shared_ptr<Inbox> inbox_;
    mutable std::mutex mutex_;
    std::map<xen::Port, std::shared_ptr<Endpoint>> bound_;
};

} // namespace

EventChannelHub::EventChannelHub(const Limits& limits, std::shared_ptr<Machine> machine)
    : limits_(limits), machine_(std::move(machine)) {}

std::unique_ptr<xen::EventChannel> EventChannelHub::open(xen::DomId domid) {
    machine_->require_alive(domid, "xenevtchn_open");
    auto handle = std::make_unique<LoopbackEventChannel>(shared_from_this(), domid);
    const std::scoped_lock lock(mutex_);
    ++open_handles_;
    return handle;
}

void EventChannelHub::handle_closed() noexcept {
    const std::scoped_lock lock(mutex_);
    --open_handles_;
}

xen::Port EventChannelHub::allocate_port_locked(xen::DomId domid, const char* operation) {
    auto& table = ports_[domid];
    if (table.size() >= limits_.max_ports_per_domain) {
        throw xen::XenError(ENOSPC, operation);
    }
    // Lowest free port from 1: port 0 is never valid in Xen.
    xen::Port port = 1;
    for (const auto& [used, endpoint] : table) {
        if (used != port) {
            break;
        }
        ++port;
    }
    return port;
}

std::shared_ptr<Endpoint> EventChannelHub::bind_unbound(xen::DomId local, xen::DomId remote,
                                                        std::shared_ptr<Inbox> inbox) {
    constexpr const char* kOperation = "xenevtchn_bind_unbound_port";
    const std::scoped_lock lock(mutex_);
    machine_->require_alive(local, kOperation);
    machine_->require_alive(remote, kOperation);
    const xen::Port port = allocate_port_locked(local, kOperation);
    auto endpoint = std::make_shared<Endpoint>(local, port, std::move(inbox), remote);
    ports_[local].emplace(port, endpoint);
    return endpoint;
}

std::shared_ptr<Endpoint> EventChannelHub::bind_interdomain(xen::DomId local, xen::DomId remote,
                                                            xen::Port remote_port, std::shared_ptr<Inbox> inbox) {
    constexpr const char* kOperation = "xenevtchn_bind_interdomain";
    const std::scoped_lock lock(mutex_);
    machine_->require_alive(local, kOperation);
    machine_->require_alive(remote, kOperation);
    auto table = ports_.find(remote);
    if (table == ports_.end()) {
        throw xen::XenError(EINVAL, kOperation);
    }
    auto found = table->second.find(remote_port);
    if (found == table->second.end()) {
        throw xen::XenError(EINVAL, kOperation);
    }
    const std::shared_ptr<Endpoint>& other = found->second;
    const xen::Port port = allocate_port_locked(local, kOperation);
    // Fully set up before the other end can see it: once linked, the remote domain's notify
    // may fire this endpoint from another thread.
    auto endpoint = std::make_shared<Endpoint>(local, port, std::move(inbox), remote);
    endpoint->state_ = PortState::Connected;
    endpoint->remote_port_ = remote_port;
    endpoint->peer_ = other;
    {
        const std::scoped_lock other_lock(other->mutex_);
        // Only a port left unbound for exactly this domain may be bound (EINVAL otherwise, as
        // evtchn_bind_interdomain does).
        if (other->state_ != PortState::Unbound || other->remote_domid_ != local) {
            throw xen::XenError(EINVAL, kOperation);
        }
        other->state_ = PortState::Connected;
        other->remote_port_ = port;
        other->peer_ = endpoint;
    }
    ports_[local].emplace(port, endpoint);
    return endpoint;
}

void EventChannelHub::free(const std::shared_ptr<Endpoint>& endpoint) noexcept {
    const std::scoped_lock lock(mutex_);
    free_locked(endpoint);
}

void EventChannelHub::free_locked(const std::shared_ptr<Endpoint>& endpoint) noexcept {
    std::shared_ptr<Endpoint> peer;
    {
        const std::scoped_lock endpoint_lock(endpoint->mutex_);
        if (endpoint->state_ == PortState::Free) {
            return; // already freed with its domain
        }
        endpoint->state_ = PortState::Free;
        peer = std::exchange(endpoint->peer_, nullptr);
    }
    auto table = ports_.find(endpoint->domid());
    if (table != ports_.end()) {
        table->second.erase(endpoint->port());
        if (table->second.empty()) {
            ports_.erase(table);
        }
    }
    if (peer) {
        // As evtchn_close does: the remote end falls back to unbound, waiting for this domain.
        const std::scoped_lock peer_lock(peer->mutex_);
        if (peer->state_ == PortState::Connected) {
            peer->state_ = PortState::Unbound;
            peer->remote_port_ = 0;
            peer->peer_ = nullptr;
        }
    }
}

void EventChannelHub::close_domain(xen::DomId domid) noexcept {
    const std::scoped_lock lock(mutex_);
    auto table = ports_.find(domid);
    if (table == ports_.end()) {
        return;
    }
    std::vector<std::shared_ptr<Endpoint>> endpoints;
    for (const auto& [port, endpoint] : table->second) {
        endpoints.push_back(endpoint);
    }
    for (const auto& endpoint : endpoints) {
        free_locked(endpoint);
    }
}

PortState EventChannelHub::state(xen::DomId domid, xen::Port port) const {
    const std::scoped_lock lock(mutex_);
    auto table = ports_.find(domid);
    if (table == ports_.end()) {
        return PortState::Free;
    }
    auto found = table->second.find(port);
    return found == table->second.end() ? PortState::Free : found->second->state();
}

std::size_t EventChannelHub::bound_ports(xen::DomId domid) const {
    const std::scoped_lock lock(mutex_);
    auto table = ports_.find(domid);
    return table == ports_.end() ? 0 : table->second.size();
}

std::size_t EventChannelHub::open_handles() const {
    const std::scoped_lock lock(mutex_);
    return open_handles_;
}

} // namespace twofold::loopback::detail
