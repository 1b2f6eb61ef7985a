// Two simulated xen-fbfront guests served by the real xenbus machinery on the loopback:
// hostile geometry, foreign frames, floods and overflow are contained to the guest that sent
// them, the other persona keeps its display, and no mapping outlives its connection.
#include <map>
#include <memory>
#include <random>

#include <gtest/gtest.h>

#include "fbfront.h"
#include "twofold/display/vfb_device.h"
#include "twofold/xenbus/backend_service.h"

namespace twofold::display {
namespace {

using testing::FbFront;
using testing::FbMode;

constexpr std::uint32_t kScreenW = 200;
constexpr std::uint32_t kScreenH = 150;
constexpr std::uint32_t kStrip = 30;
constexpr std::uint32_t kContentH = kScreenH - kStrip;
constexpr FbMode kMode{kScreenW, kContentH, kScreenW * 4, kScreenW * 4 * kContentH};
constexpr std::size_t kMemLimit = std::size_t{1} << 20;

class VfbBackendTest : public ::testing::Test {
protected:
    static constexpr std::size_t kBudget = 8;

    loopback::Hypervisor hv;
    xenbus::testing::LoopbackBackend backend{hv, kBudget};
    xenbus::testing::Toolstack toolstack{hv};
    HeadlessTarget target{kScreenW, kScreenH};
    Compositor compositor{target, kStrip};
    PersonaId personal_id = compositor.add_persona({"daily", Trust::Personal});
    PersonaId secure_id = compositor.add_persona({"bank", Trust::Secure});
    FbFront personal{hv, toolstack, "personal"};
    FbFront secure{hv, toolstack, "secure"};
    std::map<xen::DomId, PersonaId> persona_of{{personal.domid(), personal_id}, {secure.domid(), secure_id}};
    std::unique_ptr<xen::Platform> dom0 = hv.platform(xen::kDom0);
    std::unique_ptr<xen::ForeignMemory> foreign = dom0->open_foreign_memory();
    xenbus::BackendService service{backend.services(), xen::kDom0, xenbus::DeviceType::Vfb,
                                   [this](const xenbus::DevicePaths& paths) -> std::unique_ptr<xenbus::Device> {
                                       const auto persona = persona_of.find(paths.frontend_domid());
                                       if (persona == persona_of.end()) return nullptr;
                                       return std::make_unique<VfbDevice>(compositor, persona->second, *foreign,
                                                                          paths.frontend_domid(), VfbConfig{kMemLimit});
                                   }};

    void SetUp() override { service.start(); }

    bool present_soon() { return backend.run_until([&] { return compositor.present(); }, std::chrono::milliseconds(2000)); }

    [[nodiscard]] bool strip_is(Trust trust) const {
        for (std::uint32_t y = 0; y < kStrip; ++y)
            for (std::uint32_t x = 0; x < kScreenW; ++x) {
                const auto p = target.screen().at(x, y);
                if (p != strip_colour(trust) && p != kIndicatorTextColour) return false;
            }
        return true;
    }
    [[nodiscard]] std::uint32_t content(std::uint32_t x, std::uint32_t y) const { return target.screen().at(x, kStrip + y); }

    // The well-behaved personal guest is still displayed and its updates still arrive.
    void expect_personal_still_served(std::uint32_t colour) {
        compositor.switch_to(personal_id);
        compositor.present();
        personal.set(3, 4, colour);
        ASSERT_TRUE(personal.update(backend, 3, 4, 1, 1));
        ASSERT_TRUE(present_soon()) << "personal update never presented";
        EXPECT_TRUE(strip_is(Trust::Personal));
        EXPECT_EQ(content(3, 4), colour);
        EXPECT_EQ(personal.backend_state(), "4");
    }
    bool refused(FbFront& frontend) {
        return backend.run_until([&] {
            const auto state = frontend.backend_state();
            return state == "5" || state == "6";
        });
    }
};

TEST_F(VfbBackendTest, GuestsAreToldTheContentAreaNotThePanel) {
    ASSERT_TRUE(personal.connect(backend, kMode));
    EXPECT_EQ(personal.backend_node("width"), std::to_string(kScreenW));
    EXPECT_EQ(personal.backend_node("height"), std::to_string(kContentH));
    EXPECT_EQ(personal.backend_node("request-update"), "1");
}

TEST_F(VfbBackendTest, ForegroundPersonaIsPresentedFromItsMappedFramebuffer) {
    ASSERT_TRUE(personal.connect(backend, kMode));
    ASSERT_TRUE(secure.connect(backend, kMode));
    EXPECT_EQ(hv.live_foreign_mappings(), 4U); // two shared pages, two framebuffers
    personal.fill(0x00110000);
    secure.fill(0x00002200);
    compositor.switch_to(secure_id);
    ASSERT_TRUE(compositor.present());
    EXPECT_TRUE(strip_is(Trust::Secure));
    EXPECT_EQ(content(0, 0), 0x00002200U);
    EXPECT_EQ(content(kScreenW - 1, kContentH - 1), 0x00002200U);
}

TEST_F(VfbBackendTest, UpdateEventsDrawOnlyTheForegroundRectangle) {
    ASSERT_TRUE(personal.connect(backend, kMode));
    ASSERT_TRUE(secure.connect(backend, kMode));
    compositor.switch_to(personal_id);
    ASSERT_TRUE(compositor.present());
    secure.fill(0x00005500);
    ASSERT_TRUE(secure.update(backend, 0, 0, kScreenW, kContentH));
    ASSERT_TRUE(backend.run_until([&] { return compositor.stats().background_updates > 0; }));
    EXPECT_FALSE(compositor.present());
    personal.fill(0x00660000);
    ASSERT_TRUE(personal.update(backend, 10, 10, 4, 4));
    ASSERT_TRUE(present_soon());
    EXPECT_EQ(content(10, 10), 0x00660000U);
    EXPECT_EQ(content(13, 13), 0x00660000U);
    EXPECT_EQ(content(14, 14), 0U); // outside the rectangle: not yet redrawn
    EXPECT_TRUE(strip_is(Trust::Personal));
}

TEST_F(VfbBackendTest, AbsurdGeometryIsRefusedAndLogged) {
    ASSERT_TRUE(personal.connect(backend, kMode));
    secure.start(FbMode{100000, -5, 1, 4096});
    ASSERT_TRUE(refused(secure));
    EXPECT_TRUE(backend.logs().contains("width"));
    EXPECT_EQ(hv.live_foreign_mappings(), 2U); // personal: shared page + framebuffer
    expect_personal_still_served(0x00770000);
}

TEST_F(VfbBackendTest, GeometryLargerThanTheOfferedModeIsRefused) {
    ASSERT_TRUE(personal.connect(backend, kMode));
    secure.start(FbMode{kScreenW, kScreenH, kScreenW * 4, kScreenW * 4 * kScreenH}); // would cover the strip
    ASSERT_TRUE(refused(secure));
    EXPECT_TRUE(backend.logs().contains("height"));
    expect_personal_still_served(0x00780000);
}

TEST_F(VfbBackendTest, FramebufferBeyondThePerGuestLimitIsRefused) {
    ASSERT_TRUE(personal.connect(backend, kMode));
    secure.start(FbMode{kScreenW, kContentH, kScreenW * 4, static_cast<std::uint32_t>(kMemLimit + 4096)});
    ASSERT_TRUE(refused(secure));
    EXPECT_TRUE(backend.logs().contains("beyond the limit"));
    EXPECT_EQ(hv.live_foreign_mappings(), 2U); // personal: shared page + framebuffer
    expect_personal_still_served(0x00790000);
}

TEST_F(VfbBackendTest, DirectoryNamingFramesTheGuestDoesNotOwnIsRefused) {
    ASSERT_TRUE(personal.connect(backend, kMode));
    std::vector<xen::Gfn> bogus(24, xen::Gfn{0xFFFFFF});
    secure.start(kMode);
    secure.write_directory(bogus);
    ASSERT_TRUE(refused(secure));
    EXPECT_TRUE(backend.logs().contains("mapping the framebuffer failed"));
    EXPECT_EQ(hv.live_foreign_mappings(), 2U); // personal: shared page + framebuffer
    expect_personal_still_served(0x007A0000);
}

TEST_F(VfbBackendTest, UpdateFloodIsServedInBudgetedRoundsWithoutStarvingTheOther) {
    ASSERT_TRUE(personal.connect(backend, kMode));
    ASSERT_TRUE(secure.connect(backend, kMode));
    compositor.switch_to(personal_id);
    ASSERT_TRUE(compositor.present());
    // Fill the ring to the brim (a flood) and notify once.
    for (std::uint32_t i = 0; i < XENFB_OUT_RING_LEN; ++i) {
        xenfb_out_event event{};
        event.update.type = XENFB_TYPE_UPDATE;
        event.update.x = static_cast<std::int32_t>(i);
        event.update.width = 1;
        event.update.height = 1;
        secure.push_raw(event);
    }
    secure.notify();
    expect_personal_still_served(0x007B0000);
    ASSERT_TRUE(backend.run_until([&] { return secure.out_cons() == XENFB_OUT_RING_LEN; }));
    EXPECT_EQ(secure.backend_state(), "4");
}

TEST_F(VfbBackendTest, EventRingOverflowDisconnectsOnlyThatGuest) {
    ASSERT_TRUE(personal.connect(backend, kMode));
    ASSERT_TRUE(secure.connect(backend, kMode));
    secure.set_out_prod(secure.out_cons() + XENFB_OUT_RING_LEN + 1); // more than the ring holds
    secure.notify();
    ASSERT_TRUE(refused(secure));
    EXPECT_TRUE(backend.logs().contains("out ring"));
    EXPECT_TRUE(backend.run_until([&] { return hv.live_foreign_mappings() == 2U; }));
    expect_personal_still_served(0x007C0000);
}

TEST_F(VfbBackendTest, UnofferedEventTypeDisconnectsOnlyThatGuest) {
    ASSERT_TRUE(personal.connect(backend, kMode));
    ASSERT_TRUE(secure.connect(backend, kMode));
    xenfb_out_event event{};
    event.type = 0x7f; // no out event of fbif.h has this type
    secure.push_raw(event);
    secure.notify();
    ASSERT_TRUE(refused(secure));
    EXPECT_TRUE(backend.logs().contains("not offered"));
    expect_personal_still_served(0x007D0000);
}

TEST_F(VfbBackendTest, AbsurdUpdateRectanglesAreClippedOrIgnored) {
    ASSERT_TRUE(personal.connect(backend, kMode));
    compositor.switch_to(personal_id);
    ASSERT_TRUE(compositor.present());
    personal.fill(0x00100000);
    ASSERT_TRUE(personal.update(backend, INT32_MIN, INT32_MIN, INT32_MAX, INT32_MAX)); // clips to nothing
    ASSERT_TRUE(personal.update(backend, 5, 5, -3, 10));                               // no area
    ASSERT_TRUE(personal.update(backend, kScreenW - 2, kContentH - 2, INT32_MAX, INT32_MAX));
    ASSERT_TRUE(present_soon());
    EXPECT_TRUE(strip_is(Trust::Personal));
    EXPECT_EQ(content(kScreenW - 1, kContentH - 1), 0x00100000U);
    EXPECT_EQ(content(0, 0), 0U);
    EXPECT_EQ(personal.backend_state(), "4");
}

TEST_F(VfbBackendTest, GuestDestroyedMidFrameReleasesItsMappingAndBlanksItsContent) {
    ASSERT_TRUE(personal.connect(backend, kMode));
    ASSERT_TRUE(secure.connect(backend, kMode));
    secure.fill(0x00003300);
    compositor.switch_to(secure_id);
    ASSERT_TRUE(compositor.present());
    ASSERT_TRUE(secure.update(backend, 0, 0, 50, 50));
    secure.release_views();
    hv.destroy_domain(secure.domid());
    ASSERT_TRUE(backend.run_until([&] { return hv.live_foreign_mappings() == 2U; }));
    ASSERT_TRUE(present_soon());
    EXPECT_TRUE(strip_is(Trust::Secure)); // still the secure persona's screen, now empty
    EXPECT_EQ(content(20, 20), 0U);
    expect_personal_still_served(0x007E0000);
}

TEST_F(VfbBackendTest, ClosingTheFrontendUnmapsEverything) {
    ASSERT_TRUE(personal.connect(backend, kMode));
    ASSERT_TRUE(secure.connect(backend, kMode));
    EXPECT_EQ(hv.live_foreign_mappings(), 4U); // two shared pages, two framebuffers
    toolstack.remove_backend_entry(xenbus::DevicePaths(xen::kDom0, secure.domid(), xenbus::DeviceType::Vfb, 0));
    ASSERT_TRUE(backend.run_until([&] { return hv.live_foreign_mappings() == 2U; }));
    expect_personal_still_served(0x007F0000);
    toolstack.remove_backend_entry(xenbus::DevicePaths(xen::kDom0, personal.domid(), xenbus::DeviceType::Vfb, 0));
    EXPECT_TRUE(backend.run_until([&] { return hv.live_foreign_mappings() == 0U; }));
}

// Many switches with both guests updating through their rings: every presented frame's strip
// and content belong to the same persona (personal pixels are red-only, secure green-only).
TEST_F(VfbBackendTest, NoPresentedFrameMixesPersonaPixelsWithTheOtherIndicator) {
    ASSERT_TRUE(personal.connect(backend, kMode));
    ASSERT_TRUE(secure.connect(backend, kMode));
    personal.fill(0x00010000);
    secure.fill(0x00000100);
    std::mt19937 random(777);
    std::size_t checked = 0;
    for (int step = 0; step < 150; ++step) {
        if (random() % 3 == 0) compositor.switch_to(random() % 2 ? secure_id : personal_id);
        const bool to_secure = random() % 2;
        FbFront& guest = to_secure ? secure : personal;
        const std::uint32_t colour = to_secure ? (((step % 250) + 1) << 8) : (((step % 250) + 1) << 16);
        const std::uint32_t x = static_cast<std::uint32_t>(random() % kScreenW);
        const std::uint32_t y = static_cast<std::uint32_t>(random() % kContentH);
        const std::uint32_t w = std::min<std::uint32_t>(static_cast<std::uint32_t>(random() % 60 + 1), kScreenW - x);
        const std::uint32_t h = std::min<std::uint32_t>(static_cast<std::uint32_t>(random() % 60 + 1), kContentH - y);
        for (std::uint32_t yy = y; yy < y + h; ++yy)
            for (std::uint32_t xx = x; xx < x + w; ++xx) guest.set(xx, yy, colour);
        ASSERT_TRUE(guest.update(backend, static_cast<std::int32_t>(x), static_cast<std::int32_t>(y),
                                 static_cast<std::int32_t>(w), static_cast<std::int32_t>(h)));
        backend.settle(std::chrono::milliseconds(1));
        if (!compositor.present()) continue;
        const bool shows_secure = compositor.foreground() == secure_id;
        ASSERT_TRUE(strip_is(shows_secure ? Trust::Secure : Trust::Personal)) << "step " << step;
        for (std::uint32_t yy = 0; yy < kContentH; ++yy)
            for (std::uint32_t xx = 0; xx < kScreenW; ++xx) {
                const auto p = content(xx, yy);
                const bool ok = shows_secure ? ((p & 0x00FF00FF) == 0 && p != 0) : ((p & 0x0000FFFF) == 0 && p != 0);
                ASSERT_TRUE(ok) << "step " << step << " pixel " << xx << "," << yy << " = " << std::hex << p;
            }
        ++checked;
    }
    EXPECT_GT(compositor.stats().switches, 10U);
    EXPECT_GT(checked, 50U);
    // Keep the last frame as a test artefact.
    ASSERT_TRUE(target.screen().write_ppm(std::filesystem::path(::testing::TempDir()) / "vfb_backend_last_frame.ppm"));
}

} // namespace
} // namespace twofold::display
