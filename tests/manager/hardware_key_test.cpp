// The hardware key's failure paths on a board where the key is not (yet) usable: the manager
// keeps running, says why once, and keeps retrying. (Reading a real key needs an evdev device,
// which this host does not have: that path runs on the lab board.)
#include "twofold/manager/hardware_key.h"

#include <gtest/gtest.h>
#include <linux/input-event-codes.h>

#include <fstream>
#include <sstream>

#include "twofold/policy/checker.h"

namespace twofold::manager {
namespace {

using namespace std::chrono_literals;

HardwareKeyConfig config_for(const std::filesystem::path& device) {
    HardwareKeyConfig c;
    c.device = device;
    c.code = KEY_POWER;
    c.bound = Gesture::Press;
    c.retry_every = 20ms;
    return c;
}

TEST(HardwareKey, MissingDeviceLeavesTheKeyClosedAndKeepsRetrying) {
    boost::asio::io_context io;
    int gestures = 0;
    HardwareKey key(io, config_for("/nonexistent/input/event0"), [&](Gesture) { ++gestures; });
    const auto ran = io.run_for(150ms);
    EXPECT_FALSE(key.open());
    EXPECT_GE(ran, 3u) << "the retry timer fired several times";
    EXPECT_EQ(gestures, 0);
}

TEST(HardwareKey, DeviceThatIsNotEvdevIsRefusedWithoutCrashing) {
    boost::asio::io_context io;
    HardwareKey key(io, config_for("/dev/null"), [](Gesture) {});
    io.run_for(50ms);
    EXPECT_FALSE(key.open());
}

// The board binds QEMU virt's gpio-keys (KEY_POWER on /dev/input/event0, short presses only).
TEST(HardwareKey, BoardKeyBindingIsAcceptedByThePolicyChecker) {
    std::ifstream in(std::string(TWOFOLD_SOURCE_DIR) + "/policy/personas.toml");
    std::stringstream text;
    text << in.rdbuf();
    std::string policy = text.str();
    const auto swap = [&](const std::string& from, const std::string& to) {
        const auto at = policy.find(from);
        ASSERT_NE(at, std::string::npos) << from;
        policy.replace(at, from.size(), to);
    };
    swap("device = \"/dev/input/by-path/platform-gpio-keys-event\"", "device = \"/dev/input/event0\"");
    swap("gesture = \"long_press\"", "gesture = \"press\"");
    const auto loaded = policy::load_and_check_policy(policy, "personas.toml", policy::CheckOptions{false});
    ASSERT_TRUE(loaded.policy);
    for (const auto& f : loaded.findings) {
        EXPECT_NE(f.severity, policy::Severity::error) << f.message;
    }
    EXPECT_EQ(loaded.policy->hardware_key.code.value, KEY_POWER);
}

} // namespace
} // namespace twofold::manager
