// A platform restricted to one guest (issue 14): what a backend serving one persona keeps.
// The loopback mirrors the dom0 kernel's rules for privcmd and evtchn handles restricted to a
// domid, and the cut xenstore connection and grant device, so host tests can prove that a
// backend taken over while serving one persona reaches nothing of the other.
#include <gtest/gtest.h>

#include <cerrno>
#include <functional>

#include "errno_of.h"
#include "twofold/loopback/hypervisor.h"
#include "twofold/xen/error.h"

namespace twofold::loopback {
namespace {

using xen::Access;

class RestrictionTest : public ::testing::Test {
protected:
    Hypervisor hv;
    xen::DomId personal = hv.create_domain("personal");
    xen::DomId secure = hv.create_domain("secure");
    std::unique_ptr<xen::Platform> dom0 = hv.platform(xen::kDom0);
    std::unique_ptr<xen::Platform> secure_side = hv.platform(secure);
    std::unique_ptr<xen::Platform> personal_side = hv.platform(personal);
};

TEST_F(RestrictionTest, ForeignMapOfTheOtherPersonaIsRefusedWithEperm) {
    auto memory = dom0->open_foreign_memory();
    dom0->restrict_to(personal);
    const auto frame = hv.allocate_pages(secure, 1).at(0);

    EXPECT_EQ(errno_of([&] { (void)memory->map(secure, std::span(&frame, 1), Access::ReadOnly); }), EPERM);
    EXPECT_EQ(hv.live_foreign_mappings(), 0U);
}

TEST_F(RestrictionTest, ForeignMapOfItsOwnPersonaStillWorks) {
    dom0->restrict_to(personal);
    auto memory = dom0->open_foreign_memory(); // opened after the restriction: restricted too
    const auto frame = hv.allocate_pages(personal, 1).at(0);

    const auto mapped = memory->map(personal, std::span(&frame, 1), Access::ReadOnly);

    EXPECT_EQ(mapped.size(), xen::kPageSize);
}

TEST_F(RestrictionTest, BindingTheOtherPersonasPortIsRefusedWithEacces) {
    auto channel = dom0->open_event_channel();
    dom0->restrict_to(personal);
    auto secure_frontend = secure_side->open_event_channel();
    const xen::Port offered = secure_frontend->bind_unbound(xen::kDom0);

    EXPECT_EQ(errno_of([&] { (void)channel->bind_interdomain(secure, offered); }), EACCES);
    EXPECT_EQ(hv.port_state(secure, offered), PortState::Unbound);
}

TEST_F(RestrictionTest, BindingItsOwnPersonasPortStillWorks) {
    auto frontend = personal_side->open_event_channel();
    auto channel = dom0->open_event_channel();
    dom0->restrict_to(personal);
    const xen::Port offered = frontend->bind_unbound(xen::kDom0);

    (void)channel->bind_interdomain(personal, offered);

    EXPECT_EQ(hv.port_state(personal, offered), PortState::Connected);
}

TEST_F(RestrictionTest, OfferingAnUnboundPortToAnyoneIsRefused) {
    // An unbound port is how a restricted process would build a channel of its own choosing
    // (a relay): the evtchn device refuses it outright once restricted.
    auto channel = dom0->open_event_channel();
    dom0->restrict_to(personal);

    EXPECT_EQ(errno_of([&] { (void)channel->bind_unbound(secure); }), EACCES);
    EXPECT_EQ(errno_of([&] { (void)channel->bind_unbound(personal); }), EACCES);
}

TEST_F(RestrictionTest, NotifyingAPortOfAnotherHandleFails) {
    // The other persona's backend (another process, another handle) bound secure's channel;
    // the restricted handle names that local port number.
    auto secure_backend = hv.platform(xen::kDom0)->open_event_channel();
    auto secure_frontend = secure_side->open_event_channel();
    const xen::Port offered = secure_frontend->bind_unbound(xen::kDom0);
    const xen::Port secure_local = secure_backend->bind_interdomain(secure, offered);
    auto channel = dom0->open_event_channel();
    dom0->restrict_to(personal);

    EXPECT_NE(errno_of([&] { channel->notify(secure_local); }), 0);
}

TEST_F(RestrictionTest, GrantMapperOpenedBeforeIsCutAndNoNewOneOpens) {
    auto mapper = dom0->open_grant_mapper();
    const auto frame = hv.allocate_pages(secure, 1).at(0);
    const auto ref = hv.grant_access(secure, frame, xen::kDom0, Access::ReadWrite);
    dom0->restrict_to(personal);

    EXPECT_EQ(errno_of([&] { (void)mapper->map(secure, std::span(&ref, 1), Access::ReadOnly); }), EBADF);
    EXPECT_EQ(errno_of([&] { (void)dom0->open_grant_mapper(); }), EPERM);
    EXPECT_EQ(hv.live_grant_mappings(), 0U);
}

TEST_F(RestrictionTest, XenstoreConnectionIsCutAndNoNewOneOpens) {
    auto store = dom0->open_xenstore();
    const std::string secure_node = "/local/domain/" + std::to_string(secure) + "/name";
    ASSERT_EQ(store->read(secure_node), "secure");
    dom0->restrict_to(personal);

    EXPECT_EQ(errno_of([&] { (void)store->read(secure_node); }), EBADF);
    EXPECT_EQ(errno_of([&] { store->write(secure_node, "taken"); }), EBADF);
    EXPECT_EQ(errno_of([&] { store->set_permissions(secure_node, std::vector<xen::Permission>{{personal, xen::Permission::Kind::ReadWrite}}); }), EBADF);
    EXPECT_EQ(errno_of([&] { (void)dom0->open_xenstore(); }), EPERM);
    EXPECT_EQ(hv.platform(xen::kDom0)->open_xenstore()->read(secure_node), "secure"); // untouched
}

TEST_F(RestrictionTest, RestrictionIsForGoodAndNamesOneGuest) {
    EXPECT_EQ(errno_of([&] { dom0->restrict_to(xen::kDom0); }), EINVAL);
    EXPECT_EQ(errno_of([&] { dom0->restrict_to(xen::kFirstReservedDomId); }), EINVAL);
    EXPECT_EQ(dom0->restricted_to(), std::nullopt);
    dom0->restrict_to(personal);
    EXPECT_EQ(errno_of([&] { dom0->restrict_to(personal); }), 0);
    EXPECT_EQ(errno_of([&] { dom0->restrict_to(secure); }), EINVAL);
    EXPECT_EQ(dom0->restricted_to(), personal);
}

TEST_F(RestrictionTest, AnotherPlatformOfTheSameDomainIsNotRestricted) {
    // The restriction belongs to one process's handles (one Platform), not to dom0.
    dom0->restrict_to(personal);
    auto other = hv.platform(xen::kDom0);
    const auto frame = hv.allocate_pages(secure, 1).at(0);

    EXPECT_EQ(other->restricted_to(), std::nullopt);
    EXPECT_EQ(other->open_foreign_memory()->map(secure, std::span(&frame, 1), Access::ReadOnly).size(), xen::kPageSize);
}

} // namespace
} // namespace twofold::loopback
