#include "twofold/xenbus/device_paths.h"

#include <stdexcept>

#include <gtest/gtest.h>

#include "twofold/xenbus_test/loopback_backend.h"

namespace twofold::xenbus {
namespace {

TEST(DevicePaths, BuildsBackendDirectory) {
    const DevicePaths paths(0, 3, DeviceType::Vfb, 0);
    EXPECT_EQ(paths.backend(), "/local/domain/0/backend/vfb/3/0");
}

TEST(DevicePaths, BuildsFrontendDirectory) {
    const DevicePaths paths(0, 3, DeviceType::Vkbd, 1);
    EXPECT_EQ(paths.frontend(), "/local/domain/3/device/vkbd/1");
}

TEST(DevicePaths, FirstConsoleLivesAtDomainConsoleDirectory) {
    EXPECT_EQ(DevicePaths(0, 5, DeviceType::Console, 0).frontend(), "/local/domain/5/console");
}

TEST(DevicePaths, FurtherConsolesLiveUnderDevice) {
    EXPECT_EQ(DevicePaths(0, 5, DeviceType::Console, 2).frontend(), "/local/domain/5/device/console/2");
}

TEST(DevicePaths, BuildsNodePaths) {
    const DevicePaths paths(0, 3, DeviceType::Echo, 0);
    EXPECT_EQ(paths.frontend_node("state"), "/local/domain/3/device/twofold-echo/0/state");
    EXPECT_EQ(paths.backend_node("state"), "/local/domain/0/backend/twofold-echo/3/0/state");
}

TEST(DevicePaths, RejectsReservedFrontendDomid) {
    EXPECT_THROW(DevicePaths(0, xen::kFirstReservedDomId, DeviceType::Vfb, 0), std::invalid_argument);
}

TEST(DevicePaths, BackendTypeDirectoryIsWhereEntriesAreListed) {
    EXPECT_EQ(backend_type_dir(0, DeviceType::Vdispl), "/local/domain/0/backend/vdispl");
}

class ToolstackLinksTest : public ::testing::Test {
protected:
    loopback::Hypervisor hypervisor;
    testing::Toolstack toolstack{hypervisor};
    testing::FrontendDomain guest{hypervisor, "guest"};
    DevicePaths paths{0, guest.domid(), DeviceType::Echo, 0};
    void SetUp() override { toolstack.add_device(paths); }
};

TEST_F(ToolstackLinksTest, AcceptsMatchingLinks) { EXPECT_TRUE(check_toolstack_links(toolstack.store(), paths).ok()); }

TEST_F(ToolstackLinksTest, RefusesOtherFrontendPath) {
    toolstack.store().write(paths.backend_node("frontend"), "/local/domain/9/device/twofold-echo/0");
    auto result = check_toolstack_links(toolstack.store(), paths);
    ASSERT_FALSE(result.ok());
    EXPECT_NE(result.error().message.find("/frontend: names"), std::string::npos);
}

TEST_F(ToolstackLinksTest, RefusesMissingFrontendId) {
    toolstack.store().remove(paths.backend_node("frontend-id"));
    auto result = check_toolstack_links(toolstack.store(), paths);
    ASSERT_FALSE(result.ok());
    EXPECT_NE(result.error().message.find("frontend-id: missing"), std::string::npos);
}

TEST_F(ToolstackLinksTest, RefusesMalformedFrontendId) {
    toolstack.store().write(paths.backend_node("frontend-id"), "1 ");
    EXPECT_FALSE(check_toolstack_links(toolstack.store(), paths).ok());
}

} // namespace
} // namespace twofold::xenbus
