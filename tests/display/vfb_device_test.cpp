// VfbDevice on its own (no xenbus machinery): the per-wake budget, bind refusals and the
// compositor source's lifetime.
#include <gtest/gtest.h>

#include "fbfront.h"
#include "twofold/display/vfb_device.h"

namespace twofold::display {
namespace {

using testing::FbFront;
using testing::FbMode;

constexpr FbMode kMode{100, 70, 400, 400 * 70};

class VfbDeviceTest : public ::testing::Test {
protected:
    loopback::Hypervisor hv;
    xenbus::testing::Toolstack toolstack{hv};
    std::unique_ptr<xen::Platform> dom0 = hv.platform(xen::kDom0);
    std::unique_ptr<xen::ForeignMemory> foreign = dom0->open_foreign_memory();
    std::unique_ptr<xen::XenStore> store = dom0->open_xenstore();
    HeadlessTarget target{100, 100};
    Compositor compositor{target, 30};
    PersonaId persona = compositor.add_persona({"daily", Trust::Personal});
    FbFront guest{hv, toolstack, "personal"};
    xen::MappedPages page;
    xen::BoundPort port; // the device never notifies on this path
    std::unique_ptr<VfbDevice> device;

    xenbus::Result<void> bind(const FbMode& mode, bool feature_update = true) {
        guest.start(mode, feature_update);
        page = foreign->map(guest.domid(), std::vector<xen::Gfn>{guest.page_frame()}, xen::Access::ReadWrite);
        device = std::make_unique<VfbDevice>(compositor, persona, *foreign, guest.domid(), VfbConfig{1U << 20});
        const xenbus::NodeReader reader(*store, guest.paths().frontend());
        return device->on_bind(xenbus::BindContext{guest.paths(), page.bytes(), port, reader});
    }
    void push_updates(std::uint32_t count) {
        for (std::uint32_t i = 0; i < count; ++i) {
            xenfb_out_event event{};
            event.update.type = XENFB_TYPE_UPDATE;
            event.update.x = static_cast<std::int32_t>(i);
            event.update.width = 1;
            event.update.height = 1;
            guest.push_raw(event);
        }
    }
};

TEST_F(VfbDeviceTest, ServesAtMostTheBudgetPerWake) {
    ASSERT_TRUE(bind(kMode));
    push_updates(20);
    const auto first = device->on_event(5);
    EXPECT_EQ(first.processed, 5U);
    EXPECT_TRUE(first.more_pending);
    EXPECT_TRUE(first.error.empty());
    std::size_t total = first.processed;
    for (int round = 0; round < 10 && total < 20; ++round) total += device->on_event(5).processed;
    EXPECT_EQ(total, 20U);
    EXPECT_EQ(device->counters().updates, 20U);
    EXPECT_FALSE(device->on_event(5).more_pending);
}

// Seen on the board: Linux xen-fbfront sends a resize event at fbcon start although
// feature-resize is not offered. It must neither disconnect the guest nor change the mode.
TEST_F(VfbDeviceTest, ResizeEventsAreCheckedAndIgnoredNotFatal) {
    ASSERT_TRUE(bind(kMode));
    xenfb_out_event same{};
    same.resize.type = XENFB_TYPE_RESIZE;
    same.resize.width = kMode.width;
    same.resize.height = kMode.height;
    same.resize.stride = static_cast<std::int32_t>(kMode.line_length);
    same.resize.depth = 32;
    guest.push_raw(same);
    xenfb_out_event other = same;
    other.resize.width = 100000;
    other.resize.stride = -4;
    guest.push_raw(other);
    push_updates(1);
    const auto outcome = device->on_event(16);
    EXPECT_TRUE(outcome.error.empty()) << outcome.error;
    EXPECT_EQ(outcome.processed, 3U);
    EXPECT_EQ(device->counters().resizes_same_mode, 1U);
    EXPECT_EQ(device->counters().resizes_refused, 1U);
    EXPECT_EQ(device->counters().updates, 1U);
    EXPECT_TRUE(device->bound());
}

TEST_F(VfbDeviceTest, BindPublishesTheSourceAndClosingWithdrawsIt) {
    ASSERT_TRUE(bind(kMode));
    EXPECT_EQ(hv.live_foreign_mappings(), 2U); // the page (ours here) and the framebuffer
    guest.fill(0x00ABCDEF);
    compositor.switch_to(persona);
    ASSERT_TRUE(compositor.present());
    EXPECT_EQ(target.screen().at(1, 31), 0x00ABCDEFU);
    device->on_closing();
    EXPECT_FALSE(device->bound());
    EXPECT_EQ(hv.live_foreign_mappings(), 1U);
    ASSERT_TRUE(compositor.present()); // blanks: the source is gone
    EXPECT_EQ(target.screen().at(1, 31), 0U);
    EXPECT_EQ(device->on_event(5).processed, 0U); // nothing to serve after closing
}

TEST_F(VfbDeviceTest, ThirtyTwoBitProtocolIsRefused) {
    guest.start(kMode);
    toolstack.store().write(guest.paths().frontend_node("protocol"), "x86_32-abi");
    page = foreign->map(guest.domid(), std::vector<xen::Gfn>{guest.page_frame()}, xen::Access::ReadWrite);
    device = std::make_unique<VfbDevice>(compositor, persona, *foreign, guest.domid());
    const xenbus::NodeReader reader(*store, guest.paths().frontend());
    const auto bound = device->on_bind(xenbus::BindContext{guest.paths(), page.bytes(), port, reader});
    ASSERT_FALSE(bound);
    EXPECT_NE(bound.error().message.find("x86_32"), std::string::npos);
    EXPECT_EQ(hv.live_foreign_mappings(), 1U);
}

TEST_F(VfbDeviceTest, FrontendWithoutUpdateEventsIsRedrawnOnEveryWake) {
    ASSERT_TRUE(bind(kMode, false));
    compositor.switch_to(persona);
    ASSERT_TRUE(compositor.present());
    guest.fill(0x00123456);
    EXPECT_FALSE(compositor.present());
    (void)device->on_event(5);
    ASSERT_TRUE(compositor.present());
    EXPECT_EQ(target.screen().at(99, 99), 0x00123456U);
}

} // namespace
} // namespace twofold::display
