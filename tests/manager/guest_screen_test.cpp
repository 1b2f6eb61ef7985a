// The framebuffer mode the manager gives the personas: the screen of [board.display] minus
// dom0's indicator strip, on the guest kernel's command line (the only place Linux
// xen-fbfront reads a mode from), and the network interfaces and addresses it gives them.
#include "twofold/manager/manager.h"
#include "twofold/manager/domain_xml.h"

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
    persona.networks.clear(); // its address is the other thing the manager adds (below)
    EXPECT_EQ(persona_spec(persona, std::nullopt).cmdline, persona.cmdline.value);
    persona.devices.display.value = false;
    EXPECT_EQ(persona_spec(persona, policy.board.display).cmdline, persona.cmdline.value);
}

// docs/network.md: a vif per granted network, on the persona's own bridge, and the persona's
// address on that link (from the policy's subnet) on its command line.
TEST(PersonaNetwork, EachGrantedNetworkIsAVifAndAnAddressOnTheCommandLine) {
    const policy::Policy policy = lab_board_policy();
    const auto secure = persona_spec(policy.personas.at(0), policy.board.display);
    ASSERT_EQ(secure.name, "secure");
    ASSERT_EQ(secure.networks.size(), 1U);
    EXPECT_EQ(secure.networks[0].bridge, "br-secure");
    EXPECT_NE(secure.cmdline.find(" twofold.ip=10.20.2.2/30 twofold.gw=10.20.2.1"), std::string::npos) << secure.cmdline;
    const auto personal = persona_spec(policy.personas.at(1), policy.board.display);
    ASSERT_EQ(personal.networks.size(), 1U);
    EXPECT_EQ(personal.networks[0].bridge, "br-personal");
    EXPECT_NE(personal.cmdline.find(" twofold.ip=10.20.1.2/30 twofold.gw=10.20.1.1"), std::string::npos);
}

TEST(PersonaNetwork, NoNetworkInThePolicyIsNoInterface) {
    policy::Policy policy = lab_board_policy();
    auto persona = policy.personas.at(1);
    persona.networks.clear();
    const auto spec = persona_spec(persona, policy.board.display);
    EXPECT_TRUE(spec.networks.empty());
    EXPECT_EQ(spec.cmdline.find("twofold.ip="), std::string::npos);
    EXPECT_EQ(make_domain_xml(spec, DomainFlavor::xen_arm()).find("<interface"), std::string::npos);
}

TEST(PersonaNetwork, DomainXmlHasABridgedVifWithDom0sHotplugScript) {
    const policy::Policy policy = lab_board_policy();
    const std::string xml = make_domain_xml(persona_spec(policy.personas.at(1), policy.board.display), DomainFlavor::xen_arm());
    EXPECT_NE(xml.find("    <interface type='bridge'>\n      <source bridge='br-personal'/>\n"
                       "      <script path='/etc/xen/scripts/vif-twofold'/>\n    </interface>\n"),
              std::string::npos)
        << xml;
}

} // namespace
} // namespace twofold::manager
