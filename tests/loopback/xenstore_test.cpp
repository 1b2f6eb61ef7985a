// The loopback xenstore: xenstored's path rules, permissions, quotas and watches.
#include <gtest/gtest.h>
#include <poll.h>

#include <algorithm>
#include <cerrno>
#include <functional>
#include <string>

#include "errno_of.h"
#include "twofold/loopback/hypervisor.h"
#include "twofold/xen/error.h"

namespace twofold::loopback {
namespace {

using Kind = xen::Permission::Kind;

bool readable(int fd) {
    pollfd pfd{fd, POLLIN, 0};
    return ::poll(&pfd, 1, 0) == 1 && (pfd.revents & POLLIN) != 0;
}

bool has_event(const std::vector<xen::WatchEvent>& events, const std::string& path, const std::string& token) {
    return std::any_of(events.begin(), events.end(),
                       [&](const xen::WatchEvent& e) { return e.path == path && e.token == token; });
}

class XenStoreTest : public ::testing::Test {
protected:
    Hypervisor hv;
    xen::DomId guest = hv.create_domain("guest");
    std::unique_ptr<xen::XenStore> dom0 = hv.platform(xen::kDom0)->open_xenstore();
    std::unique_ptr<xen::XenStore> domu = hv.platform(guest)->open_xenstore();
    std::string home = "/local/domain/" + std::to_string(guest);
};

TEST_F(XenStoreTest, WriteThenReadReturnsValue) {
    dom0->write("/a/b", "hello");
    EXPECT_EQ(dom0->read("/a/b"), "hello");
    EXPECT_EQ(dom0->read("/a"), "");
}

TEST_F(XenStoreTest, ReadOfMissingNodeIsNullopt) { EXPECT_EQ(dom0->read("/nothing/here"), std::nullopt); }

TEST_F(XenStoreTest, ListReturnsChildNamesSorted) {
    dom0->write("/d/b", "1");
    dom0->write("/d/a", "2");
    dom0->mkdir("/d/c");
    EXPECT_EQ(dom0->list("/d"), (std::vector<std::string>{"a", "b", "c"}));
    EXPECT_TRUE(dom0->list("/missing").empty());
}

TEST_F(XenStoreTest, RemoveDeletesSubtreeAndMissingIsNotAnError) {
    dom0->write("/r/x/y", "1");
    dom0->remove("/r/x");
    EXPECT_EQ(dom0->read("/r/x/y"), std::nullopt);
    EXPECT_EQ(dom0->read("/r/x"), std::nullopt);
    EXPECT_NO_THROW(dom0->remove("/r/x"));
}

TEST_F(XenStoreTest, InvalidPathsAreRejectedWithEinval) {
    for (const std::string path : {"relative", "/trailing/", "/double//slash", "/bad char", "/bad.dot", ""}) {
        EXPECT_EQ(errno_of([&] { dom0->write(path, "v"); }), EINVAL) << path;
    }
    EXPECT_EQ(errno_of([&] { dom0->read(std::string(3073, 'a').replace(0, 1, "/")); }), EINVAL);
}

TEST_F(XenStoreTest, PathOfMaximumLengthIsAccepted) {
    const std::string path = "/" + std::string(3071, 'a');
    EXPECT_NO_THROW(dom0->write(path, ""));
}

TEST_F(XenStoreTest, OversizedPayloadIsRejectedWithE2big) {
    EXPECT_EQ(errno_of([&] { dom0->write("/v", std::string(4096, 'x')); }), E2BIG);
    EXPECT_NO_THROW(dom0->write("/v", std::string(4096 - 3, 'x')));
}

TEST_F(XenStoreTest, GuestReadsItsHomeButCannotWriteIt) {
    EXPECT_EQ(domu->read(home + "/name"), "guest");
    EXPECT_EQ(errno_of([&] { domu->write(home + "/name", "evil"); }), EACCES);
}

TEST_F(XenStoreTest, GuestWritesItsDeviceDirectory) {
    domu->write(home + "/device/vfb/0/state", "1");
    EXPECT_EQ(dom0->read(home + "/device/vfb/0/state"), "1");
}

TEST_F(XenStoreTest, GuestCannotReadDom0Nodes) {
    dom0->write("/local/domain/0/secret", "x");
    EXPECT_EQ(errno_of([&] { domu->read("/local/domain/0/secret"); }), EACCES);
    EXPECT_EQ(errno_of([&] { domu->list("/local/domain/0"); }), EACCES);
}

TEST_F(XenStoreTest, GuestCannotCreateUnderUnwritableParent) {
    EXPECT_EQ(errno_of([&] { domu->write("/local/domain/0/x", "1"); }), EACCES);
    EXPECT_EQ(errno_of([&] { domu->mkdir("/tool/x"); }), EACCES);
}

TEST_F(XenStoreTest, GuestCannotReadAnotherGuestsHome) {
    const auto other = hv.create_domain("other");
    EXPECT_EQ(errno_of([&] { domu->read("/local/domain/" + std::to_string(other) + "/name"); }), EACCES);
}

TEST_F(XenStoreTest, AclEntryGrantsReadToListedDomain) {
    dom0->write("/local/domain/0/backend/vfb/1/0/state", "2");
    const std::vector<xen::Permission> perms{{xen::kDom0, Kind::None}, {guest, Kind::Read}};
    dom0->set_permissions("/local/domain/0/backend/vfb/1/0/state", perms);
    EXPECT_EQ(domu->read("/local/domain/0/backend/vfb/1/0/state"), "2");
    EXPECT_EQ(errno_of([&] { domu->write("/local/domain/0/backend/vfb/1/0/state", "5"); }), EACCES);
}

TEST_F(XenStoreTest, NewNodesInheritParentPermissionsAndGuestOwnsWhatItCreates) {
    dom0->mkdir("/shared");
    const std::vector<xen::Permission> perms{{xen::kDom0, Kind::ReadWrite}};
    dom0->set_permissions("/shared", perms);
    domu->write("/shared/mine", "1");
    // The guest owns its node and may restrict it; another guest then cannot read it.
    const std::vector<xen::Permission> mine{{guest, Kind::None}};
    domu->set_permissions("/shared/mine", mine);
    const auto other = hv.create_domain("other");
    auto other_store = hv.platform(other)->open_xenstore();
    EXPECT_EQ(errno_of([&] { other_store->read("/shared/mine"); }), EACCES);
    EXPECT_EQ(other_store->read("/shared"), "");
}

TEST_F(XenStoreTest, GuestCannotGiveNodeAwayOrChangeForeignPermissions) {
    domu->write(home + "/data/x", "1");
    const std::vector<xen::Permission> to_dom0{{xen::kDom0, Kind::ReadWrite}};
    EXPECT_EQ(errno_of([&] { domu->set_permissions(home + "/data/x", to_dom0); }), EPERM);
    const std::vector<xen::Permission> open{{guest, Kind::ReadWrite}};
    EXPECT_EQ(errno_of([&] { domu->set_permissions(home + "/name", open); }), EACCES);
}

TEST_F(XenStoreTest, EmptyPermissionListIsRejected) {
    dom0->write("/p", "");
    EXPECT_EQ(errno_of([&] { dom0->set_permissions("/p", {}); }), EINVAL);
}

TEST_F(XenStoreTest, NodeQuotaStopsGuestAndCreatesNothing) {
    Hypervisor small(Limits{.max_nodes_per_domain = 6});
    const auto domid = small.create_domain("small");
    auto store = small.platform(domid)->open_xenstore();
    const std::string base = "/local/domain/" + std::to_string(domid) + "/data";
    // The guest already owns device/, data/ and control/.
    store->write(base + "/a", "");
    store->write(base + "/b", "");
    EXPECT_EQ(errno_of([&] { store->write(base + "/c/d", ""); }), EDQUOT);
    EXPECT_EQ(store->read(base + "/c"), std::nullopt);
    EXPECT_NO_THROW(store->write(base + "/c", ""));
}

TEST_F(XenStoreTest, Dom0IsNotSubjectToNodeQuota) {
    Hypervisor small(Limits{.max_nodes_per_domain = 1});
    auto store = small.platform(xen::kDom0)->open_xenstore();
    EXPECT_NO_THROW(store->write("/a/b/c/d", ""));
}

TEST_F(XenStoreTest, WatchFiresOnceOnRegistration) {
    dom0->watch("/w", "tok");
    EXPECT_TRUE(readable(dom0->watch_fd()));
    const auto events = dom0->take_watch_events();
    ASSERT_EQ(events.size(), 1U);
    EXPECT_EQ(events[0].path, "/w");
    EXPECT_EQ(events[0].token, "tok");
    EXPECT_FALSE(readable(dom0->watch_fd()));
}

TEST_F(XenStoreTest, WatchFiresForChangesBelowWithChangedPath) {
    dom0->watch("/w", "tok");
    dom0->take_watch_events();
    dom0->write("/w/x/y", "1");
    EXPECT_TRUE(readable(dom0->watch_fd()));
    const auto events = dom0->take_watch_events();
    ASSERT_EQ(events.size(), 1U);
    EXPECT_EQ(events[0].path, "/w/x/y");
}

TEST_F(XenStoreTest, WatchDoesNotFireForSiblingWithCommonPrefix) {
    dom0->watch("/w", "tok");
    dom0->take_watch_events();
    dom0->write("/wx", "1");
    EXPECT_FALSE(readable(dom0->watch_fd()));
    EXPECT_TRUE(dom0->take_watch_events().empty());
}

TEST_F(XenStoreTest, WatchFiresOnRemovalOfWatchedNodeAndOfParent) {
    dom0->write("/w/x", "1");
    dom0->watch("/w/x", "child");
    dom0->watch("/w", "parent");
    dom0->take_watch_events();
    dom0->remove("/w");
    const auto events = dom0->take_watch_events();
    EXPECT_TRUE(has_event(events, "/w/x", "child"));
    EXPECT_TRUE(has_event(events, "/w", "parent"));
}

TEST_F(XenStoreTest, TokensDistinguishWatchesOnSamePath) {
    dom0->watch("/w", "one");
    dom0->watch("/w", "two");
    dom0->take_watch_events();
    dom0->write("/w", "1");
    const auto events = dom0->take_watch_events();
    EXPECT_TRUE(has_event(events, "/w", "one"));
    EXPECT_TRUE(has_event(events, "/w", "two"));
}

TEST_F(XenStoreTest, DuplicateWatchIsRejectedWithEexist) {
    dom0->watch("/w", "tok");
    EXPECT_EQ(errno_of([&] { dom0->watch("/w", "tok"); }), EEXIST);
}

TEST_F(XenStoreTest, UnwatchStopsEventsAndDropsQueuedOnes) {
    dom0->watch("/w", "tok");
    dom0->write("/w", "1");
    dom0->unwatch("/w", "tok");
    EXPECT_TRUE(dom0->take_watch_events().empty());
    dom0->write("/w", "2");
    EXPECT_TRUE(dom0->take_watch_events().empty());
    EXPECT_EQ(errno_of([&] { dom0->unwatch("/w", "tok"); }), ENOENT);
}

TEST_F(XenStoreTest, WatchEventsAreNotDeliveredForUnreadableNodes) {
    domu->watch("/local/domain/0", "peek");
    domu->take_watch_events();
    dom0->write("/local/domain/0/secret", "x");
    EXPECT_TRUE(domu->take_watch_events().empty());
}

TEST_F(XenStoreTest, WatchesArePerConnection) {
    auto second = hv.platform(xen::kDom0)->open_xenstore();
    dom0->watch("/w", "tok");
    dom0->take_watch_events();
    second->write("/w", "1");
    EXPECT_TRUE(second->take_watch_events().empty());
    EXPECT_EQ(dom0->take_watch_events().size(), 1U);
}

TEST_F(XenStoreTest, ReleaseDomainWatchFiresOnDestroyAndHomeIsRemoved) {
    dom0->watch("@releaseDomain", "rel");
    dom0->take_watch_events();
    hv.destroy_domain(guest);
    EXPECT_TRUE(has_event(dom0->take_watch_events(), "@releaseDomain", "rel"));
    EXPECT_EQ(dom0->read(home), std::nullopt);
}

TEST_F(XenStoreTest, IntroduceDomainWatchFiresOnCreate) {
    dom0->watch("@introduceDomain", "intro");
    dom0->take_watch_events();
    hv.create_domain("new");
    EXPECT_TRUE(has_event(dom0->take_watch_events(), "@introduceDomain", "intro"));
}

TEST_F(XenStoreTest, GuestDoesNotSeeReleaseDomainEvents) {
    const auto other = hv.create_domain("other");
    domu->watch("@releaseDomain", "rel");
    domu->take_watch_events();
    hv.destroy_domain(other);
    EXPECT_TRUE(domu->take_watch_events().empty());
}

TEST_F(XenStoreTest, InvalidWatchPathIsRejected) {
    EXPECT_EQ(errno_of([&] { dom0->watch("/a//b", "t"); }), EINVAL);
    EXPECT_EQ(errno_of([&] { dom0->watch("@", "t"); }), EINVAL);
}

TEST_F(XenStoreTest, OversizedWatchTokenIsRejectedWithE2big) {
    EXPECT_EQ(errno_of([&] { dom0->watch("/w", std::string(4096, 't')); }), E2BIG);
}

TEST_F(XenStoreTest, WatchQuotaAppliesToGuests) {
    Hypervisor small(Limits{.max_watches_per_connection = 2});
    const auto domid = small.create_domain("small");
    auto store = small.platform(domid)->open_xenstore();
    store->watch("/a", "1");
    store->watch("/a", "2");
    EXPECT_EQ(errno_of([&] { store->watch("/a", "3"); }), E2BIG);
}

TEST_F(XenStoreTest, RepeatedChangesToOneNodeAreCoalesced) {
    dom0->watch("/w", "tok");
    dom0->take_watch_events();
    for (int i = 0; i < 100; ++i) {
        dom0->write("/w/x", std::to_string(i));
    }
    EXPECT_EQ(dom0->take_watch_events().size(), 1U);
}

TEST_F(XenStoreTest, FullQueueReportsOverflowAsEventOnWatchedPath) {
    Hypervisor small(Limits{.max_queued_watch_events = 2});
    auto store = small.platform(xen::kDom0)->open_xenstore();
    store->watch("/w", "tok");
    store->take_watch_events();
    store->write("/w/a", "");
    store->write("/w/b", "");
    store->write("/w/c", ""); // no room: reported as "rescan /w"
    const auto events = store->take_watch_events();
    ASSERT_EQ(events.size(), 3U);
    EXPECT_TRUE(has_event(events, "/w/a", "tok"));
    EXPECT_TRUE(has_event(events, "/w/b", "tok"));
    EXPECT_TRUE(has_event(events, "/w", "tok"));
}

TEST_F(XenStoreTest, MkdirOfExistingNodeDoesNotFireWatch) {
    dom0->mkdir("/m");
    dom0->watch("/m", "tok");
    dom0->take_watch_events();
    dom0->mkdir("/m");
    EXPECT_TRUE(dom0->take_watch_events().empty());
}

TEST_F(XenStoreTest, GuestCannotRemoveNodeItCannotWrite) {
    EXPECT_EQ(errno_of([&] { domu->remove(home + "/name"); }), EACCES);
    EXPECT_EQ(dom0->read(home + "/name"), "guest");
}

TEST_F(XenStoreTest, PermissionChangeNotifiesWatcherThatLosesAccess) {
    dom0->write("/local/domain/0/backend/x", "1");
    const std::vector<xen::Permission> readable_by_guest{{xen::kDom0, Kind::None}, {guest, Kind::Read}};
    dom0->set_permissions("/local/domain/0/backend/x", readable_by_guest);
    domu->watch("/local/domain/0/backend/x", "tok");
    domu->take_watch_events();
    const std::vector<xen::Permission> private_to_dom0{{xen::kDom0, Kind::None}};
    dom0->set_permissions("/local/domain/0/backend/x", private_to_dom0);
    EXPECT_TRUE(has_event(domu->take_watch_events(), "/local/domain/0/backend/x", "tok"));
    EXPECT_EQ(errno_of([&] { domu->read("/local/domain/0/backend/x"); }), EACCES);
}

TEST_F(XenStoreTest, WatchFdStaysReadableUntilEventsAreTaken) {
    dom0->watch("/w", "tok");
    dom0->write("/w/a", "1");
    dom0->write("/w/b", "1");
    EXPECT_TRUE(readable(dom0->watch_fd()));
    EXPECT_TRUE(readable(dom0->watch_fd()));
    EXPECT_EQ(dom0->take_watch_events().size(), 3U);
    EXPECT_FALSE(readable(dom0->watch_fd()));
}

TEST_F(XenStoreTest, DestroyedDomainConnectionFailsWithEsrch) {
    hv.destroy_domain(guest);
    EXPECT_EQ(errno_of([&] { domu->read("/local"); }), ESRCH);
}

TEST_F(XenStoreTest, ConnectionCounterFollowsHandles) {
    EXPECT_EQ(hv.open_xenstore_connections(), 2U);
    domu.reset();
    dom0.reset();
    EXPECT_EQ(hv.open_xenstore_connections(), 0U);
}

} // namespace
} // namespace twofold::loopback
