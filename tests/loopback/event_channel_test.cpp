// Loopback event channels: binding, notification, masking, fd readiness, closure.
#include <gtest/gtest.h>
#include <poll.h>

#include <cerrno>
#include <functional>

#include "errno_of.h"
#include "twofold/loopback/hypervisor.h"
#include "twofold/xen/error.h"

namespace twofold::loopback {
namespace {

bool readable(int fd) {
    pollfd pfd{fd, POLLIN, 0};
    return ::poll(&pfd, 1, 0) == 1 && (pfd.revents & POLLIN) != 0;
}

class EventChannelTest : public ::testing::Test {
protected:
    Hypervisor hv;
    xen::DomId guest = hv.create_domain("guest");
    std::unique_ptr<xen::EventChannel> backend = hv.platform(xen::kDom0)->open_event_channel();
    std::unique_ptr<xen::EventChannel> frontend = hv.platform(guest)->open_event_channel();
};

TEST_F(EventChannelTest, InterdomainBindConnectsBothEnds) {
    const xen::Port unbound = frontend->bind_unbound(xen::kDom0);
    EXPECT_EQ(hv.port_state(guest, unbound), PortState::Unbound);
    const xen::Port local = backend->bind_interdomain(guest, unbound);
    EXPECT_EQ(hv.port_state(guest, unbound), PortState::Connected);
    EXPECT_EQ(hv.port_state(xen::kDom0, local), PortState::Connected);
}

TEST_F(EventChannelTest, PortsStartAtOneAndArePerDomain) {
    EXPECT_EQ(frontend->bind_unbound(xen::kDom0), 1U);
    EXPECT_EQ(frontend->bind_unbound(xen::kDom0), 2U);
    EXPECT_EQ(backend->bind_unbound(guest), 1U);
}

TEST_F(EventChannelTest, NotifyMakesRemoteFdReadableAndPendingReturnsPort) {
    const xen::Port remote = frontend->bind_unbound(xen::kDom0);
    const xen::Port local = backend->bind_interdomain(guest, remote);
    EXPECT_FALSE(readable(backend->fd()));

    frontend->notify(remote);

    EXPECT_TRUE(readable(backend->fd()));
    EXPECT_EQ(backend->pending(), local);
    EXPECT_EQ(backend->pending(), std::nullopt);
    EXPECT_FALSE(readable(backend->fd()));
}

TEST_F(EventChannelTest, FiredPortStaysMaskedUntilUnmask) {
    const xen::Port remote = frontend->bind_unbound(xen::kDom0);
    const xen::Port local = backend->bind_interdomain(guest, remote);
    frontend->notify(remote);
    ASSERT_EQ(backend->pending(), local);

    frontend->notify(remote);
    frontend->notify(remote);

    EXPECT_EQ(backend->pending(), std::nullopt);
    EXPECT_FALSE(readable(backend->fd()));
    backend->unmask(local);
    EXPECT_TRUE(readable(backend->fd()));
    EXPECT_EQ(backend->pending(), local);
    EXPECT_EQ(backend->pending(), std::nullopt);
}

TEST_F(EventChannelTest, UnmaskWithoutNewNotificationDeliversNothing) {
    const xen::Port remote = frontend->bind_unbound(xen::kDom0);
    const xen::Port local = backend->bind_interdomain(guest, remote);
    frontend->notify(remote);
    ASSERT_EQ(backend->pending(), local);
    backend->unmask(local);
    EXPECT_EQ(backend->pending(), std::nullopt);
}

TEST_F(EventChannelTest, NotifyWorksInBothDirections) {
    const xen::Port remote = frontend->bind_unbound(xen::kDom0);
    const xen::Port local = backend->bind_interdomain(guest, remote);
    backend->notify(local);
    EXPECT_EQ(frontend->pending(), remote);
}

TEST_F(EventChannelTest, BindToPortReservedForAnotherDomainFailsWithEinval) {
    const auto other = hv.create_domain("other");
    const xen::Port remote = frontend->bind_unbound(other);
    EXPECT_EQ(errno_of([&] { backend->bind_interdomain(guest, remote); }), EINVAL);
}

TEST_F(EventChannelTest, BindToConnectedPortFailsWithEinval) {
    const xen::Port remote = frontend->bind_unbound(xen::kDom0);
    backend->bind_interdomain(guest, remote);
    EXPECT_EQ(errno_of([&] { backend->bind_interdomain(guest, remote); }), EINVAL);
}

TEST_F(EventChannelTest, BindToMissingDomainFailsWithEsrch) {
    EXPECT_EQ(errno_of([&] { backend->bind_interdomain(4000, 1); }), ESRCH);
}

TEST_F(EventChannelTest, NotifyOnPortNotBoundByHandleFailsWithEinval) {
    EXPECT_EQ(errno_of([&] { backend->notify(7); }), EINVAL);
    EXPECT_EQ(errno_of([&] { backend->unmask(7); }), EINVAL);
    EXPECT_EQ(errno_of([&] { backend->unbind(7); }), EINVAL);
}

TEST_F(EventChannelTest, UnbindLeavesRemoteUnboundAndNotifyDropped) {
    const xen::Port remote = frontend->bind_unbound(xen::kDom0);
    const xen::Port local = backend->bind_interdomain(guest, remote);
    backend->unbind(local);
    EXPECT_EQ(hv.port_state(xen::kDom0, local), PortState::Free);
    EXPECT_EQ(hv.port_state(guest, remote), PortState::Unbound);
    frontend->notify(remote); // dropped, as Xen drops sends on an unbound port
    EXPECT_EQ(backend->pending(), std::nullopt);
}

TEST_F(EventChannelTest, RemoteCanRebindAfterBackendUnbinds) {
    const xen::Port remote = frontend->bind_unbound(xen::kDom0);
    backend->unbind(backend->bind_interdomain(guest, remote));
    const xen::Port again = backend->bind_interdomain(guest, remote);
    frontend->notify(remote);
    EXPECT_EQ(backend->pending(), again);
}

TEST_F(EventChannelTest, DestroyedDomainClosesItsChannels) {
    const xen::Port remote = frontend->bind_unbound(xen::kDom0);
    const xen::Port local = backend->bind_interdomain(guest, remote);

    hv.destroy_domain(guest);

    EXPECT_EQ(hv.port_state(guest, remote), PortState::Free);
    EXPECT_EQ(hv.port_state(xen::kDom0, local), PortState::Unbound);
    EXPECT_EQ(hv.bound_ports(guest), 0U);
    backend->notify(local); // the backend survives notifying a dead peer
    EXPECT_EQ(errno_of([&] { frontend->notify(remote); }), EBADF);
}

TEST_F(EventChannelTest, HandleDestructionUnbindsItsPorts) {
    frontend->bind_unbound(xen::kDom0);
    frontend->bind_unbound(xen::kDom0);
    EXPECT_EQ(hv.bound_ports(guest), 2U);
    frontend.reset();
    EXPECT_EQ(hv.bound_ports(guest), 0U);
}

TEST_F(EventChannelTest, BoundPortUnbindsOnDestruction) {
    const xen::Port remote = frontend->bind_unbound(xen::kDom0);
    {
        const xen::BoundPort port(*backend, backend->bind_interdomain(guest, remote));
        EXPECT_EQ(hv.bound_ports(xen::kDom0), 1U);
        port.notify();
        EXPECT_EQ(frontend->pending(), remote);
    }
    EXPECT_EQ(hv.bound_ports(xen::kDom0), 0U);
}

TEST_F(EventChannelTest, PortQuotaIsEnforced) {
    Hypervisor small(Limits{.max_ports_per_domain = 2});
    auto channel = small.platform(xen::kDom0)->open_event_channel();
    channel->bind_unbound(xen::kDom0);
    channel->bind_unbound(xen::kDom0);
    EXPECT_EQ(errno_of([&] { channel->bind_unbound(xen::kDom0); }), ENOSPC);
}

TEST_F(EventChannelTest, CountersReturnToZeroWhenHandlesClose) {
    const xen::Port remote = frontend->bind_unbound(xen::kDom0);
    backend->bind_interdomain(guest, remote);
    EXPECT_EQ(hv.open_event_channel_handles(), 2U);
    backend.reset();
    frontend.reset();
    EXPECT_EQ(hv.open_event_channel_handles(), 0U);
    EXPECT_EQ(hv.bound_ports(xen::kDom0), 0U);
    EXPECT_EQ(hv.bound_ports(guest), 0U);
}

} // namespace
} // namespace twofold::loopback
