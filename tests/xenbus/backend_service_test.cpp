#include "twofold/xenbus/backend_service.h"

#include <memory>

#include <gtest/gtest.h>

#include "fake_device.h"
#include "twofold/xenbus_test/loopback_backend.h"

namespace twofold::xenbus {
namespace {

using testing::FakeDevice;
using testing::FakeDeviceScript;
using testing::FrontendDomain;
using testing::LoopbackBackend;
using testing::Toolstack;

class BackendServiceTest : public ::testing::Test {
protected:
    loopback::Hypervisor hypervisor;
    LoopbackBackend backend{hypervisor};
    Toolstack toolstack{hypervisor};
    FrontendDomain guest{hypervisor, "guest"};
    DevicePaths paths{xen::kDom0, guest.domid(), DeviceType::Echo, 0};
    std::shared_ptr<FakeDeviceScript> script = std::make_shared<FakeDeviceScript>();
    int created = 0;
    bool refuse_all = false;
    BackendService service{backend.services(), xen::kDom0, DeviceType::Echo,
                           [this](const DevicePaths&) -> std::unique_ptr<Device> {
                               if (refuse_all) return nullptr;
                               ++created;
                               return std::make_unique<FakeDevice>(script);
                           }};

    void SetUp() override { service.start(); }
    bool wait_count(std::size_t count) {
        return backend.run_until([&] { return service.connection_count() == count; });
    }
    void connect_guest() {
        toolstack.add_device(paths);
        ASSERT_TRUE(wait_count(1));
        auto ring = guest.share_ring(hypervisor, paths);
        guest.set_state(paths, XenbusState::Initialised);
        ASSERT_TRUE(backend.run_until([&] { return hypervisor.live_grant_mappings() == 1; }));
    }
};

TEST_F(BackendServiceTest, DiscoversToolstackEntry) {
    toolstack.add_device(paths);
    ASSERT_TRUE(wait_count(1));
    ASSERT_NE(service.find(guest.domid(), 0), nullptr);
    EXPECT_EQ(service.find(guest.domid(), 0)->backend_state(), XenbusState::InitWait);
}

// The toolstack writes a backend directory node by node; "state" comes last.
TEST_F(BackendServiceTest, WaitsForTheToolstackToFinishTheEntry) {
    toolstack.store().mkdir(paths.backend());
    toolstack.store().write(paths.backend_node("online"), "1");
    backend.settle();
    EXPECT_EQ(created, 0);
    EXPECT_EQ(service.connection_count(), 0U);
    toolstack.add_device(paths);
    ASSERT_TRUE(wait_count(1));
    EXPECT_EQ(created, 1);
}

TEST_F(BackendServiceTest, CreatesOneConnectionPerEntryDespiteRepeatedWatchEvents) {
    toolstack.add_device(paths);
    ASSERT_TRUE(wait_count(1));
    toolstack.store().write(paths.backend_node("extra"), "1");
    backend.settle();
    EXPECT_EQ(created, 1);
}

TEST_F(BackendServiceTest, ServesTwoDevicesOfOneFrontend) {
    toolstack.add_device(paths);
    toolstack.add_device(DevicePaths(xen::kDom0, guest.domid(), DeviceType::Echo, 1));
    ASSERT_TRUE(wait_count(2));
}

TEST_F(BackendServiceTest, MalformedDomidEntryIsSkippedAndLogged) {
    toolstack.store().write(backend_type_dir(xen::kDom0, DeviceType::Echo) + "/07/0/state", "1");
    backend.settle();
    EXPECT_EQ(service.connection_count(), 0U);
    EXPECT_TRUE(backend.logs().contains("leading zero"));
}

TEST_F(BackendServiceTest, MalformedDevidEntryIsSkippedAndLogged) {
    toolstack.store().write(paths.backend() + "x/state", "1"); // devid "0x"
    backend.settle();
    EXPECT_EQ(service.connection_count(), 0U);
    EXPECT_TRUE(backend.logs().contains("not a decimal number"));
}

TEST_F(BackendServiceTest, RemovedEntryTearsDownAndReleases) {
    connect_guest();
    toolstack.remove_backend_entry(paths);
    ASSERT_TRUE(wait_count(0));
    EXPECT_EQ(hypervisor.live_grant_mappings(), 0U);
    EXPECT_EQ(hypervisor.bound_ports(xen::kDom0), 0U);
}

TEST_F(BackendServiceTest, ReleasedDomainTearsDownAndReleases) {
    connect_guest();
    hypervisor.destroy_domain(guest.domid());
    ASSERT_TRUE(wait_count(0));
    EXPECT_EQ(hypervisor.live_grant_mappings(), 0U);
    EXPECT_EQ(hypervisor.bound_ports(xen::kDom0), 0U);
    EXPECT_TRUE(backend.logs().contains("domain released"));
}

TEST_F(BackendServiceTest, ReleaseOfAnotherDomainKeepsConnection) {
    connect_guest();
    FrontendDomain other(hypervisor, "other");
    hypervisor.destroy_domain(other.domid());
    backend.settle();
    EXPECT_EQ(service.connection_count(), 1U);
    EXPECT_EQ(hypervisor.live_grant_mappings(), 1U);
}

TEST_F(BackendServiceTest, RefusedDeviceIsNotRecreatedUntilEntryReappears) {
    toolstack.add_device(paths);
    toolstack.store().write(paths.backend_node("frontend-id"), "0");
    backend.settle();
    EXPECT_EQ(service.connection_count(), 0U);
    EXPECT_EQ(created, 1);
    toolstack.store().write(paths.backend_node("extra"), "1");
    backend.settle();
    EXPECT_EQ(created, 1);
    toolstack.remove_backend_entry(paths);
    backend.settle();
    toolstack.add_device(paths);
    ASSERT_TRUE(wait_count(1));
    EXPECT_EQ(created, 2);
}

TEST_F(BackendServiceTest, ClosedOfflineFrontendIsTornDown) {
    connect_guest();
    toolstack.store().write(paths.backend_node("online"), "0");
    guest.set_state(paths, XenbusState::Closed);
    ASSERT_TRUE(wait_count(0));
    EXPECT_EQ(hypervisor.live_grant_mappings(), 0U);
}

TEST_F(BackendServiceTest, FactoryRefusalCreatesNothing) {
    refuse_all = true;
    toolstack.add_device(paths);
    backend.settle();
    EXPECT_EQ(service.connection_count(), 0U);
    EXPECT_TRUE(backend.logs().contains("no device"));
}

} // namespace
} // namespace twofold::xenbus
