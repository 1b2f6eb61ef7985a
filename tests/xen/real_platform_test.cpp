// The real platform on a host without Xen: every open fails cleanly, as a XenError naming the
// library call and carrying errno (on the board the same code talks to Xen: see tests/lab).
#include <gtest/gtest.h>

#include <cerrno>
#include <functional>
#include <string>
#include <vector>

#include "twofold/xen/error.h"
#include "twofold/xen/platform.h"
#include "twofold/xen/real_platform.h"

namespace twofold::xen {
namespace {

template <typename Open>
void expect_open_fails_naming(Open open, const std::string& operation) {
    try {
        open();
        ADD_FAILURE() << operation << " unexpectedly succeeded on a host without Xen";
    } catch (const XenError& error) {
        EXPECT_NE(error.errno_value(), 0);
        EXPECT_NE(std::string(error.what()).find(operation), std::string::npos) << error.what();
    }
}

TEST(RealPlatformTest, ReportsTheDomidItWasGiven) { EXPECT_EQ(make_real_platform(7)->own_domid(), 7); }

TEST(RealPlatformTest, OpeningXenstoreWithoutXenThrowsXenErrorNamingXsOpen) {
    auto platform = make_real_platform();
    expect_open_fails_naming([&] { platform->open_xenstore(); }, "xs_open");
}

TEST(RealPlatformTest, OpeningEventChannelWithoutXenThrowsXenErrorNamingXenevtchnOpen) {
    auto platform = make_real_platform();
    expect_open_fails_naming([&] { platform->open_event_channel(); }, "xenevtchn_open");
}

TEST(RealPlatformTest, OpeningGrantMapperWithoutXenThrowsXenErrorNamingXengnttabOpen) {
    auto platform = make_real_platform();
    expect_open_fails_naming([&] { platform->open_grant_mapper(); }, "xengnttab_open");
}

TEST(RealPlatformTest, OpeningForeignMemoryWithoutXenThrowsXenErrorNamingXenforeignmemoryOpen) {
    auto platform = make_real_platform();
    expect_open_fails_naming([&] { platform->open_foreign_memory(); }, "xenforeignmemory_open");
}

TEST(RealPlatformTest, HandleClassesFailTheSameWay) {
    expect_open_fails_naming([] { const XsHandle handle; }, "xs_open");
    expect_open_fails_naming([] { const EvtchnHandle handle; }, "xenevtchn_open");
    expect_open_fails_naming([] { const GnttabHandle handle; }, "xengnttab_open");
    expect_open_fails_naming([] { const ForeignMemoryHandle handle; }, "xenforeignmemory_open");
}

TEST(RealPlatformTest, RestrictionNamesOneGuestForGood) {
    auto platform = make_real_platform();
    EXPECT_THROW(platform->restrict_to(kDom0), XenError);
    EXPECT_THROW(platform->restrict_to(kFirstReservedDomId), XenError);
    EXPECT_EQ(platform->restricted_to(), std::nullopt);
    platform->restrict_to(5); // no Xen handle open on this host: nothing to restrict or cut
    EXPECT_NO_THROW(platform->restrict_to(5));
    EXPECT_THROW(platform->restrict_to(6), XenError);
    EXPECT_EQ(platform->restricted_to(), 5);
}

TEST(RealPlatformTest, RestrictedPlatformOpensNoXenstoreConnectionNorGrantDevice) {
    auto platform = make_real_platform();
    platform->restrict_to(5);
    for (const auto& open : std::vector<std::function<void()>>{[&] { platform->open_xenstore(); },
                                                               [&] { platform->open_grant_mapper(); }}) {
        try {
            open();
            ADD_FAILURE() << "a restricted platform opened a handle it must not have";
        } catch (const XenError& error) {
            EXPECT_EQ(error.errno_value(), EPERM) << error.what();
        }
    }
}

} // namespace
} // namespace twofold::xen
