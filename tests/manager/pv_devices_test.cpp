#include "twofold/manager/pv_devices.h"

#include <gtest/gtest.h>

#include "twofold/loopback/hypervisor.h"
#include "twofold/xen/error.h"

namespace twofold::manager {
namespace {

class PvDevicesTest : public ::testing::Test {
protected:
    loopback::Hypervisor hv_;
    xen::DomId personal_ = hv_.create_domain("personal");
    xen::DomId secure_ = hv_.create_domain("secure");
    std::unique_ptr<xen::Platform> dom0_ = hv_.platform(xen::kDom0);
    std::unique_ptr<xen::XenStore> dom0_store_ = dom0_->open_xenstore();
    PvDevicePlumber plumber_{*dom0_store_};
    PvDevice vfb_{PvDeviceType::Vfb, 0, xen::kDom0, {}};
};

TEST_F(PvDevicesTest, PlumbWritesBothDirectoriesInInitialising) {
    plumber_.plumb(personal_, vfb_);
    const auto paths = pv_device_paths(personal_, vfb_);
    EXPECT_EQ(paths.frontend, "/local/domain/" + std::to_string(personal_) + "/device/vfb/0");
    EXPECT_EQ(dom0_store_->read(paths.backend + "/frontend"), paths.frontend);
    EXPECT_EQ(dom0_store_->read(paths.backend + "/frontend-id"), std::to_string(personal_));
    EXPECT_EQ(dom0_store_->read(paths.backend + "/state"), "1");
    EXPECT_EQ(dom0_store_->read(paths.frontend + "/backend"), paths.backend);
    EXPECT_EQ(dom0_store_->read(paths.frontend + "/state"), "1");
    EXPECT_TRUE(plumber_.plumbed(personal_, vfb_));
}

TEST_F(PvDevicesTest, FrontendMayWriteItsOwnDirectoryButNotTheBackends) {
    plumber_.plumb(personal_, vfb_);
    const auto paths = pv_device_paths(personal_, vfb_);
    auto guest = hv_.platform(personal_)->open_xenstore();
    EXPECT_NO_THROW(guest->write(paths.frontend + "/page-ref", "123"));
    EXPECT_EQ(guest->read(paths.backend + "/state"), "1") << "the frontend reads the backend's state";
    EXPECT_THROW(guest->write(paths.backend + "/state", "4"), xen::XenError);
}

TEST_F(PvDevicesTest, OtherPersonaCanReadNeitherDirectory) {
    plumber_.plumb(personal_, vfb_);
    const auto paths = pv_device_paths(personal_, vfb_);
    auto other = hv_.platform(secure_)->open_xenstore();
    EXPECT_THROW(static_cast<void>(other->read(paths.frontend + "/state")), xen::XenError);
    EXPECT_THROW(static_cast<void>(other->read(paths.backend + "/state")), xen::XenError);
    EXPECT_THROW(other->write(paths.frontend + "/state", "3"), xen::XenError);
}

TEST_F(PvDevicesTest, ReplumbDiscardsStaleGuestValues) {
    plumber_.plumb(personal_, vfb_);
    const auto paths = pv_device_paths(personal_, vfb_);
    hv_.platform(personal_)->open_xenstore()->write(paths.frontend + "/page-ref", "999");
    plumber_.plumb(personal_, vfb_);
    EXPECT_FALSE(dom0_store_->read(paths.frontend + "/page-ref").has_value());
}

TEST_F(PvDevicesTest, UnplumbRemovesBothDirectories) {
    plumber_.plumb(personal_, vfb_);
    plumber_.unplumb(personal_, vfb_);
    EXPECT_FALSE(plumber_.plumbed(personal_, vfb_));
    EXPECT_TRUE(dom0_store_->list(pv_device_paths(personal_, vfb_).backend).empty());
}

TEST_F(PvDevicesTest, BackendSettingsAreWrittenForConsoles) {
    PvDevice console{PvDeviceType::Console, 1, xen::kDom0, {{"name", "modem"}, {"protocol", "vt100"}}};
    plumber_.plumb(secure_, console);
    const auto paths = pv_device_paths(secure_, console);
    EXPECT_EQ(paths.backend, "/local/domain/0/backend/console/" + std::to_string(secure_) + "/1");
    EXPECT_EQ(dom0_store_->read(paths.backend + "/name"), "modem");
}

} // namespace
} // namespace twofold::manager
