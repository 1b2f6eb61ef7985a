#include "twofold/xenbus/frontend_connection.h"

#include <memory>
#include <optional>

#include <gtest/gtest.h>

#include "fake_device.h"
#include "twofold/xenbus_test/loopback_backend.h"

namespace twofold::xenbus {
namespace {

using testing::FakeDevice;
using testing::FakeDeviceScript;
using testing::FrontendDomain;
using testing::LoopbackBackend;
using testing::SharedRing;
using testing::Toolstack;

class FrontendConnectionTest : public ::testing::Test {
protected:
    loopback::Hypervisor hypervisor;
    LoopbackBackend backend{hypervisor};
    Toolstack toolstack{hypervisor};
    FrontendDomain guest{hypervisor, "guest"};
    DevicePaths paths{xen::kDom0, guest.domid(), DeviceType::Echo, 0};
    std::shared_ptr<FakeDeviceScript> script = std::make_shared<FakeDeviceScript>();
    std::optional<FrontendConnection> connection;
    int finished_calls = 0;

    void start() {
        connection.emplace(backend.services(), paths, std::make_unique<FakeDevice>(script),
                           [this](const DevicePaths&) { ++finished_calls; });
        connection->start();
        backend.settle(std::chrono::milliseconds(20));
    }
    std::string backend_state() { return toolstack.read(paths.backend_node("state")); }
    bool wait_backend(XenbusState state) {
        return backend.run_until([&] { return backend_state() == to_xenstore(state); });
    }
    SharedRing connect(std::size_t pages = 1) {
        toolstack.add_device(paths);
        start();
        auto ring = guest.share_ring(hypervisor, paths, pages);
        guest.set_state(paths, XenbusState::Initialised);
        EXPECT_TRUE(wait_backend(XenbusState::Connected));
        return ring;
    }
};

TEST_F(FrontendConnectionTest, StartAnnouncesInitWait) {
    toolstack.add_device(paths);
    start();
    EXPECT_EQ(backend_state(), "2");
}

TEST_F(FrontendConnectionTest, StartPublishesDeviceNodesBeforeInitWait) {
    script->nodes = {{"feature-echo", "1"}};
    toolstack.add_device(paths);
    start();
    EXPECT_EQ(toolstack.read(paths.backend_node("feature-echo")), "1");
}

TEST_F(FrontendConnectionTest, WrongToolstackFrontendLinkRefusesDevice) {
    toolstack.add_device(paths);
    toolstack.store().write(paths.backend_node("frontend"), "/local/domain/0/device/twofold-echo/0");
    start();
    EXPECT_TRUE(connection->finished());
    EXPECT_EQ(finished_calls, 1);
    EXPECT_TRUE(backend.logs().contains("refusing device"));
    EXPECT_EQ(backend_state(), "1"); // never announced InitWait
}

TEST_F(FrontendConnectionTest, WrongToolstackFrontendIdRefusesDevice) {
    toolstack.add_device(paths);
    toolstack.store().write(paths.backend_node("frontend-id"), "0");
    start();
    EXPECT_TRUE(connection->finished());
}

TEST_F(FrontendConnectionTest, InitialisedFrontendIsMappedBoundAndConnected) {
    const auto ring = connect();
    EXPECT_EQ(script->binds, 1);
    EXPECT_EQ(script->ring_size, xen::kPageSize);
    EXPECT_EQ(hypervisor.live_grant_mappings(), 1U);
    EXPECT_EQ(hypervisor.bound_ports(xen::kDom0), 1U);
    EXPECT_TRUE(connection->bound());
}

TEST_F(FrontendConnectionTest, NotifyRunsDeviceWithBudget) {
    const auto ring = connect();
    const int before = script->events;
    guest.events().notify(ring.port);
    ASSERT_TRUE(backend.run_until([&] { return script->events > before; }));
    EXPECT_EQ(script->last_budget, kDefaultBudgetPerWake);
}

TEST_F(FrontendConnectionTest, FrontendClosingReleasesRingAndPort) {
    const auto ring = connect();
    guest.set_state(paths, XenbusState::Closing);
    ASSERT_TRUE(wait_backend(XenbusState::Closing));
    EXPECT_EQ(script->closings, 1);
    EXPECT_EQ(hypervisor.live_grant_mappings(), 0U);
    EXPECT_EQ(hypervisor.bound_ports(xen::kDom0), 0U);
}

TEST_F(FrontendConnectionTest, FrontendClosedWhileOfflineFinishes) {
    const auto ring = connect();
    toolstack.store().write(paths.backend_node("online"), "0");
    guest.set_state(paths, XenbusState::Closed);
    ASSERT_TRUE(backend.run_until([&] { return finished_calls == 1; }));
    EXPECT_EQ(backend_state(), "6");
    EXPECT_EQ(hypervisor.live_grant_mappings(), 0U);
}

TEST_F(FrontendConnectionTest, FrontendClosedWhileOnlineWaitsForReconnect) {
    const auto ring = connect();
    guest.set_state(paths, XenbusState::Closed);
    ASSERT_TRUE(wait_backend(XenbusState::Closed));
    backend.settle();
    EXPECT_EQ(finished_calls, 0);
    guest.set_state(paths, XenbusState::Initialising);
    ASSERT_TRUE(wait_backend(XenbusState::InitWait));
    const auto second = guest.share_ring(hypervisor, paths);
    guest.set_state(paths, XenbusState::Initialised);
    ASSERT_TRUE(wait_backend(XenbusState::Connected));
    EXPECT_EQ(script->binds, 2);
    EXPECT_EQ(hypervisor.live_grant_mappings(), 1U);
}

TEST_F(FrontendConnectionTest, FrontendRebootWhileConnectedRebindsFreshRing) {
    const auto ring = connect();
    guest.set_state(paths, XenbusState::Initialising);
    ASSERT_TRUE(wait_backend(XenbusState::InitWait));
    EXPECT_EQ(hypervisor.live_grant_mappings(), 0U);
}

TEST_F(FrontendConnectionTest, DeviceErrorClosesOnlyAfterReleasingEverything) {
    const auto ring = connect();
    script->outcome.error = "ring fault";
    guest.events().notify(ring.port);
    ASSERT_TRUE(wait_backend(XenbusState::Closing));
    EXPECT_FALSE(script->holding_ring);
    EXPECT_EQ(hypervisor.live_grant_mappings(), 0U);
    EXPECT_EQ(hypervisor.bound_ports(xen::kDom0), 0U);
    EXPECT_TRUE(backend.logs().contains("ring fault"));
}

TEST_F(FrontendConnectionTest, DeviceRefusingBindReleasesEverything) {
    script->refuse_bind = true;
    toolstack.add_device(paths);
    start();
    const auto ring = guest.share_ring(hypervisor, paths);
    guest.set_state(paths, XenbusState::Initialised);
    ASSERT_TRUE(wait_backend(XenbusState::Closing));
    EXPECT_EQ(script->binds, 1);
    EXPECT_EQ(hypervisor.live_grant_mappings(), 0U);
    EXPECT_EQ(hypervisor.bound_ports(xen::kDom0), 0U);
}

// A frontend that flips its state in a loop while the device refuses every bind: the first
// failures are served at once, then the connection holds it (its state changes ignored, the
// backend left in Closing) with a doubling hold; when the hold ends it is served again, and a
// bind that succeeds ends the backoff.
TEST_F(FrontendConnectionTest, FrontendThatKeepsFailingToBindIsHeldWithBackoff) {
    script->refuse_bind = true;
    toolstack.add_device(paths);
    connection.emplace(backend.services(), paths, std::make_unique<FakeDevice>(script),
                       [this](const DevicePaths&) { ++finished_calls; },
                       BindBackoffLimits{2, std::chrono::milliseconds(1000), std::chrono::milliseconds(2000)});
    connection->start();
    backend.settle(std::chrono::milliseconds(20));
    const auto ring = guest.share_ring(hypervisor, paths);
    const auto flip = [&] {
        guest.set_state(paths, XenbusState::Initialising);
        (void)backend.run_until([&] { return backend_state() == to_xenstore(XenbusState::InitWait); },
                                std::chrono::milliseconds(50));
        guest.set_state(paths, XenbusState::Initialised);
        backend.settle(std::chrono::milliseconds(5));
    };
    guest.set_state(paths, XenbusState::Initialised);
    ASSERT_TRUE(wait_backend(XenbusState::Closing));
    for (int i = 0; i < 10; ++i) flip(); // well within the first hold
    EXPECT_EQ(script->binds, 3) << "two free failures, then the third starts a hold";
    EXPECT_TRUE(connection->held());
    EXPECT_EQ(backend_state(), to_xenstore(XenbusState::Closing));
    EXPECT_TRUE(backend.logs().contains("failed to bind 3 times in a row: held in Closing for 1000 ms"));
    // The hold ends: the frontend's state is read again and served (one more failure, 2000 ms).
    ASSERT_TRUE(backend.run_until([&] { return !connection->held(); }, std::chrono::seconds(3)));
    for (int i = 0; i < 3 && script->binds == 3; ++i) flip();
    EXPECT_EQ(script->binds, 4);
    EXPECT_TRUE(backend.logs().contains("held in Closing for 2000 ms"));
    // A frontend that behaves after the hold connects, and the count starts afresh.
    script->refuse_bind = false;
    ASSERT_TRUE(backend.run_until([&] { return !connection->held(); }, std::chrono::seconds(3)));
    flip();
    ASSERT_TRUE(wait_backend(XenbusState::Connected));
    EXPECT_FALSE(connection->held());
    EXPECT_EQ(hypervisor.live_grant_mappings(), 1U);
    (void)ring;
}

TEST_F(FrontendConnectionTest, UngrantedRingRefIsRefusedWithoutMapping) {
    toolstack.add_device(paths);
    start();
    auto ring = guest.share_ring(hypervisor, paths);
    guest.write(paths, "ring-ref", std::to_string(ring.refs.front() + 100));
    guest.set_state(paths, XenbusState::Initialised);
    ASSERT_TRUE(wait_backend(XenbusState::Closing));
    EXPECT_TRUE(backend.logs().contains("bind failed"));
    EXPECT_EQ(hypervisor.live_grant_mappings(), 0U);
}

TEST_F(FrontendConnectionTest, MultiPageRingMapsEveryPage) {
    script->spec.max_page_order = 2;
    const auto ring = connect(4);
    EXPECT_EQ(script->ring_size, 4 * xen::kPageSize);
}

TEST_F(FrontendConnectionTest, RingPageOrderAboveDeviceMaximumIsRefused) {
    script->spec.max_page_order = 1;
    toolstack.add_device(paths);
    start();
    const auto ring = guest.share_ring(hypervisor, paths, 4);
    guest.set_state(paths, XenbusState::Initialised);
    ASSERT_TRUE(wait_backend(XenbusState::Closing));
    EXPECT_TRUE(backend.logs().contains("ring-page-order"));
    EXPECT_EQ(script->binds, 0);
}

TEST_F(FrontendConnectionTest, GarbageStateClosesFrontend) {
    const auto ring = connect();
    guest.write(paths, "state", "4 ");
    ASSERT_TRUE(wait_backend(XenbusState::Closing));
    EXPECT_TRUE(backend.logs().contains("refused frontend value"));
    EXPECT_EQ(hypervisor.live_grant_mappings(), 0U);
}

TEST_F(FrontendConnectionTest, DestructionReleasesEverything) {
    const auto ring = connect();
    connection.reset();
    EXPECT_EQ(script->closings, 1);
    EXPECT_EQ(hypervisor.live_grant_mappings(), 0U);
    EXPECT_EQ(hypervisor.bound_ports(xen::kDom0), 0U);
    EXPECT_EQ(backend.ports().handler_count(), 0U);
}

} // namespace
} // namespace twofold::xenbus
