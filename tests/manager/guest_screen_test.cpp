// The framebuffer mode the manager gives the personas: the screen of [board.display] minus
// dom0's indicator strip, on the guest kernel's command line (the only place Linux
// xen-fbfront reads a mode from).
#include "twofold/manager/manager.h"

#include <gtest/gtest.h>

#include "twofold/policy/checker.h"

#ifndef TWOFOLD_SOURCE_DIR
#error "TWOFOLD_SOURCE_DIR must point at the repository"
#endif

namespace twofold::manager {
namespace {

policy::Policy lab_board_policy() {
    auto loaded = policy::load_and_check_policy_file(std::string(TWOFOLD_SOURCE_DIR) + "/policy/lab-board.toml");
    EXPECT_TRUE(loaded.policy.has_value());
    return *loaded.policy;
}

TEST(GuestScreen, IsThePanelBelowTheIndicatorStripWithTheMemoryItTakes) {
    policy::Display screen;
    screen.width.value = 1280;
    screen.height.value = 800;
    screen.indicator_height.value = 32;
    const GuestScreen g = guest_screen(screen);
    EXPECT_EQ(g.width, 1280U);
    EXPECT_EQ(g.height, 768U);
    EXPECT_EQ(g.videoram_mib, 4U); // 1280 * 768 * 4 bytes = 3.75 MiB, rounded up
}

TEST(GuestScreen, PersonaWithADisplayIsToldItsModeOnTheKernelCommandLine) {
    const policy::Policy policy = lab_board_policy();
    for (const auto& persona : policy.personas) {
        const auto spec = persona_spec(persona, policy.board.display);
        EXPECT_NE(spec.cmdline.find(" xen_fbfront.video=4,1280,768"), std::string::npos) << spec.cmdline;
        EXPECT_EQ(spec.cmdline.rfind(persona.cmdline.value, 0), 0U) << "the policy's own arguments come first";
    }
}

TEST(GuestScreen, NoScreenOrNoDisplayLeavesTheCommandLineAlone) {
    policy::Policy policy = lab_board_policy();
    auto persona = policy.personas.front();
    EXPECT_EQ(persona_spec(persona, std::nullopt).cmdline, persona.cmdline.value);
    persona.devices.display.value = false;
    EXPECT_EQ(persona_spec(persona, policy.board.display).cmdline, persona.cmdline.value);
}

} // namespace
} // namespace twofold::manager
