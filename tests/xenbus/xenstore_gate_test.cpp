// The xenstore a backend serving one persona may see (XenStoreGate), on the loopback with both
// personas' device directories as the manager writes them: its own paths work, the other
// persona's are refused with EACCES, listings and watch events name only its own persona.
#include <gtest/gtest.h>

#include <algorithm>
#include <cerrno>

#include "../loopback/errno_of.h"
#include "twofold/loopback/hypervisor.h"
#include "twofold/xen/error.h"
#include "twofold/xenbus/xenstore_gate.h"

namespace twofold::xenbus {
namespace {

using loopback::errno_of;

class XenStoreGateTest : public ::testing::Test {
protected:
    void SetUp() override {
        for (const xen::DomId domid : {personal, secure}) {
            const DevicePaths paths(xen::kDom0, domid, DeviceType::Vkbd, 0);
            toolstack->write(paths.backend_node("state"), "1");
            toolstack->write(paths.frontend_node("page-ref"), "4242");
        }
    }
    std::string secure_node(std::string_view name) const {
        return DevicePaths(xen::kDom0, secure, DeviceType::Vkbd, 0).frontend_node(name);
    }

    loopback::Hypervisor hv;
    xen::DomId personal = hv.create_domain("personal");
    xen::DomId secure = hv.create_domain("secure");
    std::unique_ptr<xen::XenStore> toolstack = hv.platform(xen::kDom0)->open_xenstore();
    const DevicePaths own{xen::kDom0, personal, DeviceType::Vkbd, 0};
    XenStoreGate gate{hv.platform(xen::kDom0)->open_xenstore(), GateScope{xen::kDom0, personal, DeviceType::Vkbd}};
};

TEST_F(XenStoreGateTest, OwnBackendAndFrontendNodesWork) {
    gate.write(own.backend_node("feature-abs-pointer"), "1");

    EXPECT_EQ(toolstack->read(own.backend_node("feature-abs-pointer")), "1");
    EXPECT_EQ(gate.read(own.frontend_node("page-ref")), "4242");
    EXPECT_EQ(gate.read(domain_path(personal) + "/name"), "personal");
}

TEST_F(XenStoreGateTest, TheOtherPersonasNodesAreRefusedWithEacces) {
    const DevicePaths other(xen::kDom0, secure, DeviceType::Vkbd, 0);

    EXPECT_EQ(errno_of([&] { (void)gate.read(secure_node("page-ref")); }), EACCES);
    EXPECT_EQ(errno_of([&] { (void)gate.list(other.frontend()); }), EACCES);
    EXPECT_EQ(errno_of([&] { gate.write(other.backend_node("state"), "6"); }), EACCES);
    EXPECT_EQ(errno_of([&] { gate.remove(other.backend()); }), EACCES);
    EXPECT_EQ(errno_of([&] { gate.watch(other.frontend(), "t"); }), EACCES);
    EXPECT_EQ(toolstack->read(other.backend_node("state")), "1");
}

TEST_F(XenStoreGateTest, FrontendNodesAreReadOnlyAndPermissionsAreNeverSet) {
    const xen::Permission open_to_secure[] = {{personal, xen::Permission::Kind::None}, {secure, xen::Permission::Kind::Read}};

    EXPECT_EQ(errno_of([&] { gate.write(own.frontend_node("page-ref"), "1"); }), EACCES);
    EXPECT_EQ(errno_of([&] { gate.set_permissions(own.backend(), open_to_secure); }), EACCES);
    EXPECT_EQ(errno_of([&] { gate.set_permissions(own.frontend(), open_to_secure); }), EACCES);
}

TEST_F(XenStoreGateTest, OtherDeviceTypesAndPlacesAreRefused) {
    EXPECT_EQ(errno_of([&] { (void)gate.read(DevicePaths(xen::kDom0, personal, DeviceType::Vfb, 0).frontend_node("page-ref")); }), EACCES);
    EXPECT_EQ(errno_of([&] { (void)gate.read("/local/domain/0/name"); }), EACCES);
    EXPECT_EQ(errno_of([&] { (void)gate.list("/local/domain"); }), EACCES);
    EXPECT_EQ(errno_of([&] { gate.write(domain_path(personal) + "/data/x", "1"); }), EACCES);
}

TEST_F(XenStoreGateTest, NonCanonicalPathsAreRefusedBeforeTheStore) {
    // A relative path would be resolved by xenstored against the connection's home (dom0's).
    EXPECT_EQ(errno_of([&] { (void)gate.read("backend/vkbd/" + std::to_string(secure) + "/0/state"); }), EACCES);
    EXPECT_EQ(errno_of([&] { (void)gate.read(own.backend() + "/"); }), EACCES);
    EXPECT_EQ(errno_of([&] { (void)gate.read(own.backend() + "//state"); }), EACCES);
    EXPECT_EQ(errno_of([&] { (void)gate.read(own.backend() + "/../../" + std::to_string(secure) + "/0/state"); }), EACCES);
    // A prefix of our own domid's digits is not our domain.
    EXPECT_EQ(errno_of([&] { (void)gate.read(domain_path(personal) + "0/name"); }), EACCES);
}

TEST_F(XenStoreGateTest, TheTypeDirectoryListsOnlyItsOwnPersona) {
    const auto entries = gate.list(backend_type_dir(xen::kDom0, DeviceType::Vkbd));

    EXPECT_EQ(entries, std::vector<std::string>{std::to_string(personal)});
    EXPECT_EQ(toolstack->list(backend_type_dir(xen::kDom0, DeviceType::Vkbd)).size(), 2U);
}

TEST_F(XenStoreGateTest, WatchEventsOfTheOtherPersonaAreDropped) {
    gate.watch(backend_type_dir(xen::kDom0, DeviceType::Vkbd), "type");
    gate.watch("@releaseDomain", "release");
    (void)gate.take_watch_events(); // the registration events
    toolstack->write(DevicePaths(xen::kDom0, secure, DeviceType::Vkbd, 0).backend_node("state"), "2");
    toolstack->write(own.backend_node("state"), "2");

    const auto events = gate.take_watch_events();

    ASSERT_EQ(events.size(), 1U);
    EXPECT_EQ(events[0].path, own.backend_node("state"));
}

TEST_F(XenStoreGateTest, ConsoleScopeAdmitsTheFirstConsoleDirectory) {
    XenStoreGate console{hv.platform(xen::kDom0)->open_xenstore(), GateScope{xen::kDom0, personal, DeviceType::Console}};
    toolstack->write(domain_path(personal) + "/console/ring-ref", "8");

    EXPECT_EQ(console.read(domain_path(personal) + "/console/ring-ref"), "8");
    EXPECT_EQ(errno_of([&] { (void)console.read(domain_path(secure) + "/console/ring-ref"); }), EACCES);
    EXPECT_EQ(errno_of([&] { (void)gate.read(domain_path(personal) + "/console/ring-ref"); }), EACCES);
}

TEST_F(XenStoreGateTest, AScopeOfDom0ItselfIsRefused) {
    EXPECT_THROW(XenStoreGate(hv.platform(xen::kDom0)->open_xenstore(), GateScope{xen::kDom0, xen::kDom0, DeviceType::Vkbd}),
                 std::invalid_argument);
}

} // namespace
} // namespace twofold::xenbus
