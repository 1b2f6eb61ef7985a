// Leak counters and lifetimes across the whole loopback machine.
#include <gtest/gtest.h>

#include "twofold/loopback/hypervisor.h"
#include "twofold/xen/error.h"

namespace twofold::loopback {
namespace {

TEST(LoopbackLifecycle, CountersReturnToZeroOnceEverythingIsDestroyed) {
    Hypervisor hv;
    const auto guest = hv.create_domain("guest");
    {
        auto dom0 = hv.platform(xen::kDom0);
        auto domu = hv.platform(guest);
        auto store = dom0->open_xenstore();
        auto guest_store = domu->open_xenstore();
        store->watch("/local", "t");
        auto backend = dom0->open_event_channel();
        auto frontend = domu->open_event_channel();
        const xen::BoundPort port(*backend, backend->bind_interdomain(guest, frontend->bind_unbound(xen::kDom0)));
        const auto gfns = hv.allocate_pages(guest, 2);
        const auto ref = hv.grant_access(guest, gfns[0], xen::kDom0, xen::Access::ReadWrite);
        auto grant = dom0->open_grant_mapper()->map(guest, std::span(&ref, 1), xen::Access::ReadWrite);
        auto foreign = dom0->open_foreign_memory()->map(guest, gfns, xen::Access::ReadOnly);
        auto view = hv.frontend_view(guest, gfns);

        EXPECT_EQ(hv.open_xenstore_connections(), 2U);
        EXPECT_EQ(hv.open_event_channel_handles(), 2U);
        EXPECT_EQ(hv.bound_ports(xen::kDom0), 1U);
        EXPECT_EQ(hv.bound_ports(guest), 1U);
        EXPECT_EQ(hv.live_grant_mappings(), 1U);
        EXPECT_EQ(hv.live_foreign_mappings(), 1U);
        EXPECT_EQ(hv.live_frontend_views(), 1U);
    }
    EXPECT_EQ(hv.open_xenstore_connections(), 0U);
    EXPECT_EQ(hv.open_event_channel_handles(), 0U);
    EXPECT_EQ(hv.bound_ports(xen::kDom0), 0U);
    EXPECT_EQ(hv.bound_ports(guest), 0U);
    EXPECT_EQ(hv.live_grant_mappings(), 0U);
    EXPECT_EQ(hv.live_foreign_mappings(), 0U);
    EXPECT_EQ(hv.live_frontend_views(), 0U);
}

TEST(LoopbackLifecycle, HandlesAndMappingsMayOutliveTheHypervisor) {
    std::unique_ptr<xen::XenStore> store;
    std::unique_ptr<xen::EventChannel> channel;
    xen::MappedPages mapping;
    {
        Hypervisor hv;
        const auto guest = hv.create_domain("guest");
        auto dom0 = hv.platform(xen::kDom0);
        store = dom0->open_xenstore();
        channel = dom0->open_event_channel();
        channel->bind_unbound(guest);
        const auto gfn = hv.allocate_pages(guest, 1).at(0);
        const auto ref = hv.grant_access(guest, gfn, xen::kDom0, xen::Access::ReadWrite);
        mapping = dom0->open_grant_mapper()->map(guest, std::span(&ref, 1), xen::Access::ReadWrite);
    }
    mapping.bytes()[0] = std::byte{1};
    store->write("/still/works", "1");
    EXPECT_EQ(store->read("/still/works"), "1");
    mapping.reset();
    channel.reset();
    store.reset();
}

TEST(LoopbackLifecycle, PlatformOfMissingDomainIsRefused) {
    Hypervisor hv;
    EXPECT_THROW(hv.platform(42), xen::XenError);
}

TEST(LoopbackLifecycle, PlatformReportsItsDomain) {
    Hypervisor hv;
    const auto guest = hv.create_domain("guest");
    EXPECT_EQ(hv.platform(guest)->own_domid(), guest);
}

} // namespace
} // namespace twofold::loopback
