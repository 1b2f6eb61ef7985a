#pragma once
// Event channels: one handle, many local ports. fd() is readable when some port fired; the
// owner drains with pending() and re-arms each port with unmask() after handling it.
#include <optional>

#include "twofold/xen/types.h"

namespace twofold::xen {

class EventChannel {
public:
    virtual ~EventChannel() = default;

    // Binds to a port the remote domain allocated (the frontend publishes it in xenstore).
    virtual Port bind_interdomain(DomId remote, Port remote_port) = 0;
    // Allocates a port the remote domain may bind to.
    virtual Port bind_unbound(DomId remote) = 0;
    virtual void unbind(Port local) = 0;
    virtual void notify(Port local) = 0;

    [[nodiscard]] virtual int fd() const = 0;
    // Next fired port, or nullopt when none is pending (non-blocking).
    virtual std::optional<Port> pending() = 0;
    virtual void unmask(Port local) = 0;
};

// Owns one bound local port; unbinds on destruction.
class BoundPort {
public:
    BoundPort() = default;
    BoundPort(EventChannel& channel, Port local) : channel_(&channel), port_(local) {}
    ~BoundPort() { reset(); }
    BoundPort(BoundPort&& other) noexcept : channel_(other.channel_), port_(other.port_) { other.channel_ = nullptr; }
    BoundPort& operator=(BoundPort&& other) noexcept {
        if (this != &other) {
            reset();
            channel_ = other.channel_;
            port_ = other.port_;
            other.channel_ = nullptr;
        }
        return *this;
    }
    BoundPort(const BoundPort&) = delete;
    BoundPort& operator=(const BoundPort&) = delete;

    [[nodiscard]] Port port() const noexcept { return port_; }
    [[nodiscard]] bool bound() const noexcept { return channel_ != nullptr; }
    void notify() const { if (channel_ != nullptr) channel_->notify(port_); }
    void reset() noexcept;

private:
    EventChannel* channel_ = nullptr;
    Port port_ = 0;
};

} // namespace twofold::xen
