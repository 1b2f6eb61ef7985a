#include <cerrno>

extern "C" {
#include <xenevtchn.h>
}

#include "twofold/xen/error.h"
#include "twofold/xen/real_platform.h"

namespace twofold::xen {

Port RealEventChannel::bind_interdomain(DomId remote, Port remote_port) {
    const xenevtchn_port_or_error_t port = ::xenevtchn_bind_interdomain(handle_.get(), remote, remote_port);
    if (port < 0) {
        throw_errno("xenevtchn_bind_interdomain");
    }
    return static_cast<Port>(port);
}

Port RealEventChannel::bind_unbound(DomId remote) {
    const xenevtchn_port_or_error_t port = ::xenevtchn_bind_unbound_port(handle_.get(), remote);
    if (port < 0) {
        throw_errno("xenevtchn_bind_unbound_port");
    }
    return static_cast<Port>(port);
}

void RealEventChannel::unbind(Port local) {
    if (::xenevtchn_unbind(handle_.get(), local) < 0) {
        throw_errno("xenevtchn_unbind");
    }
}

void RealEventChannel::notify(Port local) {
    if (::xenevtchn_notify(handle_.get(), local) < 0) {
        throw_errno("xenevtchn_notify");
    }
}

void RealEventChannel::restrict_to(DomId domid) {
    if (::xenevtchn_restrict(handle_.get(), domid) < 0) {
        throw_errno("xenevtchn_restrict");
    }
}

int RealEventChannel::fd() const { return ::xenevtchn_fd(handle_.get()); }

std::optional<Port> RealEventChannel::pending() {
    const xenevtchn_port_or_error_t port = ::xenevtchn_pending(handle_.get());
    if (port < 0) {
        // The fd is non-blocking: EAGAIN means nothing is pending.
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            return std::nullopt;
        }
        throw_errno("xenevtchn_pending");
    }
    return static_cast<Port>(port);
}

void RealEventChannel::unmask(Port local) {
    if (::xenevtchn_unmask(handle_.get(), local) < 0) {
        throw_errno("xenevtchn_unmask");
    }
}

} // namespace twofold::xen
