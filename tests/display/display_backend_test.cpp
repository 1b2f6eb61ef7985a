// The whole backend process wiring on the loopback: two personas by domain name, a stranger
// refused, switches reported only after the frame that shows them.
#include <vector>

#include <gtest/gtest.h>
#include <spdlog/sinks/null_sink.h>

#include "fbfront.h"
#include "twofold/display/display_backend.h"

namespace twofold::display {
namespace {

using testing::FbFront;
using testing::FbMode;

constexpr std::uint32_t kW = 160;
constexpr std::uint32_t kH = 120;
constexpr std::uint32_t kStrip = 24;
constexpr FbMode kMode{kW, kH - kStrip, kW * 4, kW * 4 * (kH - kStrip)};

class DisplayBackendTest : public ::testing::Test {
protected:
    loopback::Hypervisor hv;
    xenbus::testing::Toolstack toolstack{hv};
    std::unique_ptr<xen::Platform> dom0 = hv.platform(xen::kDom0);
    HeadlessTarget target{kW, kH};
    std::vector<PresentedSwitch> acks;
    FbFront personal{hv, toolstack, "personal"};
    FbFront secure{hv, toolstack, "secure"};
    FbFront stranger{hv, toolstack, "stranger"};
    DisplayBackend backend{*dom0,
                           target,
                           DisplayBackendConfig{{{"personal", {"personal", Trust::Personal}},
                                                 {"secure", {"secure", Trust::Secure}}},
                                                kStrip,
                                                VfbConfig{1U << 20},
                                                std::chrono::microseconds(1000),
                                                8,
                                                std::nullopt},
                           std::make_shared<spdlog::logger>("test", std::make_shared<spdlog::sinks::null_sink_mt>()),
                           [this](const PresentedSwitch& done) { acks.push_back(done); }};

    bool run_until(const std::function<bool()>& predicate) {
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
        while (!predicate()) {
            if (std::chrono::steady_clock::now() >= deadline) return false;
            if (backend.io().stopped()) backend.io().restart();
            backend.io().run_for(std::chrono::milliseconds(2));
        }
        return true;
    }
    bool connect(FbFront& guest) {
        guest.start(kMode);
        return run_until([&] { return guest.backend_state() == "4"; });
    }
    [[nodiscard]] std::uint32_t strip_pixel() const { return target.screen().at(kW - 1, 0); }
};

TEST_F(DisplayBackendTest, ServesConfiguredPersonasAndAcksSwitchesAfterPresenting) {
    backend.start();
    ASSERT_TRUE(connect(personal));
    ASSERT_TRUE(connect(secure));
    personal.fill(0x00200000);
    secure.fill(0x00002000);
    const PersonaId secure_id = *backend.personas().by_name("secure");
    const PersonaId personal_id = *backend.personas().by_name("personal");

    backend.switch_to(secure_id, 41);
    ASSERT_TRUE(run_until([&] { return !acks.empty(); }));
    EXPECT_EQ(acks.back(), (PresentedSwitch{secure_id, 41}));
    EXPECT_EQ(strip_pixel(), kSecureStripColour);
    EXPECT_EQ(target.screen().at(5, kStrip + 5), 0x00002000U);

    backend.switch_to(personal_id, 42);
    ASSERT_TRUE(run_until([&] { return acks.size() == 2; }));
    EXPECT_EQ(acks.back(), (PresentedSwitch{personal_id, 42}));
    EXPECT_EQ(strip_pixel(), kPersonalStripColour);
    EXPECT_EQ(target.screen().at(5, kStrip + 5), 0x00200000U);

    // An update from the foreground guest through its ring reaches the screen.
    personal.set(7, 7, 0x00300000);
    ASSERT_TRUE(personal.update_if_room(7, 7, 1, 1));
    ASSERT_TRUE(run_until([&] { return target.screen().at(7, kStrip + 7) == 0x00300000U; }));
    EXPECT_EQ(acks.size(), 2U); // updates are no switches
}

TEST_F(DisplayBackendTest, DomainThatIsNoConfiguredPersonaGetsNoDisplay) {
    backend.start();
    ASSERT_TRUE(connect(personal));
    stranger.start(kMode);
    // Refused at discovery: its backend entry never reaches Connected and nothing is mapped for it.
    const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(200);
    ASSERT_TRUE(run_until([&] { return std::chrono::steady_clock::now() > until; }));
    EXPECT_NE(stranger.backend_state(), "4");
    EXPECT_EQ(hv.live_foreign_mappings(), 2U); // personal's page and framebuffer only
}

} // namespace
} // namespace twofold::display
