// The real platform on a host without Xen: every open fails cleanly, as a XenError naming the
// library call and carrying errno (on the board the same code talks to Xen: see tests/lab).
#include <gtest/gtest.h>

#include <string>

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

} // namespace
} // namespace twofold::xen
