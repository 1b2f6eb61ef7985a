#include "twofold/manager/backends_config.h"

#include <gtest/gtest.h>

namespace twofold::manager {
namespace {

bool mentions(const BackendsLoad& load, const std::string& text) {
    for (const auto& e : load.errors) {
        if (e.find(text) != std::string::npos) return true;
    }
    return false;
}

constexpr const char* kGood = R"(version = 1
[[backend]]
name = "display"
command = ["/usr/libexec/twofold/twofold-display-backend", "--persona", "personal:personal"]
after_personas = true
hello_timeout_ms = 2000
[backend.restart]
max_attempts = 3
window_seconds = 60
first_delay_ms = 200

[[backend]]
name = "input"
command = ["/usr/libexec/twofold/twofold-input-backend"]
user = "twofold-kbd"
)";

TEST(BackendsConfig, ValidFileGivesEveryField) {
    const auto load = load_backends_config(kGood, "backends.toml");
    ASSERT_TRUE(load.config) << (load.errors.empty() ? "" : load.errors.front());
    ASSERT_EQ(load.config->backends.size(), 2u);
    const auto& display = load.config->backends[0];
    EXPECT_EQ(display.name, "display");
    EXPECT_EQ(display.command.size(), 3u);
    EXPECT_EQ(display.user, "twofold-display") << "default user is twofold-<name>";
    EXPECT_TRUE(display.after_personas);
    EXPECT_EQ(display.hello_timeout, std::chrono::milliseconds(2000));
    EXPECT_EQ(display.restart.max_attempts, 3u);
    EXPECT_EQ(display.restart.first_delay, std::chrono::milliseconds(200));
    EXPECT_EQ(load.config->backends[1].user, "twofold-kbd");
    EXPECT_FALSE(load.config->backends[1].after_personas);
}

TEST(BackendsConfig, RelativeCommandIsRefusedWithLineAndHint) {
    const auto load = load_backends_config("version = 1\n[[backend]]\nname = \"display\"\ncommand = [\"twofold-display-backend\"]\n",
                                           "b.toml");
    EXPECT_FALSE(load.config);
    ASSERT_EQ(load.errors.size(), 1u);
    EXPECT_NE(load.errors[0].find("b.toml:4:"), std::string::npos) << load.errors[0];
    EXPECT_NE(load.errors[0].find("absolute path"), std::string::npos);
    EXPECT_NE(load.errors[0].find("hint:"), std::string::npos);
}

TEST(BackendsConfig, DotDotInCommandPathIsRefused) {
    const auto load = load_backends_config(
        "version = 1\n[[backend]]\nname = \"display\"\ncommand = [\"/usr/libexec/../bin/sh\"]\n", "b.toml");
    EXPECT_TRUE(mentions(load, "normalised absolute path"));
}

TEST(BackendsConfig, CommandMayNotCarryFocusFdOrUser) {
    const auto load = load_backends_config(
        "version = 1\n[[backend]]\nname = \"display\"\ncommand = [\"/usr/bin/x\", \"--focus-fd\", \"7\"]\n", "b.toml");
    EXPECT_TRUE(mentions(load, "must not contain --focus-fd"));
}

TEST(BackendsConfig, EveryErrorIsReportedAtOnce) {
    const auto load = load_backends_config(R"(version = 1
colour = "blue"
[[backend]]
name = "Display"
command = "/usr/bin/x"
hello_timeout_ms = 5
[backend.restart]
max_attempts = 0
)",
                                           "b.toml");
    EXPECT_FALSE(load.config);
    EXPECT_TRUE(mentions(load, "unknown key 'colour'"));
    EXPECT_TRUE(mentions(load, "'name' matching"));
    EXPECT_TRUE(mentions(load, "'command' must be a non-empty array"));
    EXPECT_TRUE(mentions(load, "'hello_timeout_ms' = 5 is out of range"));
    EXPECT_TRUE(mentions(load, "'max_attempts' = 0 is out of range"));
}

TEST(BackendsConfig, DuplicateBackendNameIsRefused) {
    const auto load = load_backends_config(R"(version = 1
[[backend]]
name = "display"
command = ["/usr/bin/a"]
[[backend]]
name = "display"
command = ["/usr/bin/b"]
)",
                                           "b.toml");
    EXPECT_TRUE(mentions(load, "configured twice"));
}

TEST(BackendsConfig, MissingVersionIsRefused) {
    const auto load = load_backends_config("[[backend]]\nname = \"display\"\ncommand = [\"/usr/bin/a\"]\n", "b.toml");
    EXPECT_TRUE(mentions(load, "'version = 1' is required"));
}

TEST(BackendsConfig, TomlSyntaxErrorHasItsPosition) {
    const auto load = load_backends_config("version = 1\n[[backend]\n", "b.toml");
    ASSERT_EQ(load.errors.size(), 1u);
    EXPECT_NE(load.errors[0].find("b.toml:2:"), std::string::npos) << load.errors[0];
}

TEST(BackendsConfig, NonAsciiBytesAreRefusedBeforeParsing) {
    const auto load = load_backends_config("version = 1\n# caf\xc3\xa9\n", "b.toml");
    EXPECT_TRUE(mentions(load, "not ASCII"));
}

TEST(BackendsConfig, UnknownKeyInBackendNamesTheKnownOnes) {
    const auto load = load_backends_config(
        "version = 1\n[[backend]]\nname = \"display\"\ncommand = [\"/usr/bin/a\"]\nargs = []\n", "b.toml");
    EXPECT_TRUE(mentions(load, "unknown key 'args' in [[backend]]"));
    EXPECT_TRUE(mentions(load, "known keys: name, command"));
}

// The input split of issue 14: one evdev reader (the peer) and a ring writer per persona.
constexpr const char* kPerPersona = R"(version = 1
[[backend]]
name = "input"
command = ["/usr/libexec/twofold/twofold-input-backend", "--persona", "personal:personal"]

[[backend]]
name = "vkbd"
command = ["/usr/libexec/twofold/twofold-vkbd-backend"]
per_persona = true
peer = "input"
xenstore = "vkbd"
)";

// An input backend and a vkbd one, with `vkbd_extra` lines (from line 9) and `command_extra`
// arguments added to the vkbd entry.
BackendsLoad per_persona_with(const std::string& vkbd_extra, const std::string& command_extra = "") {
    std::string text = R"(version = 1
[[backend]]
name = "input"
command = ["/usr/libexec/twofold/twofold-input-backend"]

[[backend]]
name = "vkbd"
command = ["/usr/libexec/twofold/twofold-vkbd-backend")" + command_extra + R"(]
)" + vkbd_extra;
    return load_backends_config(text, "b.toml");
}

TEST(BackendsConfig, PerPersonaBackendWithItsPeer) {
    const auto load = load_backends_config(kPerPersona, "backends.toml");
    ASSERT_TRUE(load.config) << (load.errors.empty() ? "" : load.errors.front());
    const auto& input = load.config->backends[0];
    const auto& vkbd = load.config->backends[1];
    EXPECT_FALSE(input.per_persona) << "per_persona defaults to false";
    EXPECT_FALSE(input.peer);
    EXPECT_TRUE(vkbd.per_persona);
    EXPECT_EQ(vkbd.peer, "input");
    EXPECT_EQ(vkbd.user, "twofold-vkbd") << "the supervisor appends -<persona>";
    EXPECT_EQ(vkbd.xenstore, "vkbd");
}

TEST(BackendsConfig, PerPersonaWithoutPeerIsValid) {
    const auto load = per_persona_with("per_persona = true\n");
    ASSERT_TRUE(load.config) << (load.errors.empty() ? "" : load.errors.front());
    EXPECT_TRUE(load.config->backends[1].per_persona);
    EXPECT_FALSE(load.config->backends[1].peer);
}

TEST(BackendsConfig, PeerWithoutPerPersonaIsRefusedAtItsLine) {
    const auto load = per_persona_with("peer = \"input\"\n");
    EXPECT_FALSE(load.config);
    ASSERT_EQ(load.errors.size(), 1u);
    EXPECT_NE(load.errors[0].find("b.toml:9:"), std::string::npos) << load.errors[0];
    EXPECT_NE(load.errors[0].find("only allowed with per_persona = true"), std::string::npos) << load.errors[0];
    EXPECT_NE(load.errors[0].find("hint:"), std::string::npos);
}

TEST(BackendsConfig, PeerNamingNoBackendIsRefused) {
    const auto load = per_persona_with("per_persona = true\npeer = \"evdev\"\n");
    EXPECT_FALSE(load.config);
    ASSERT_EQ(load.errors.size(), 1u);
    EXPECT_NE(load.errors[0].find("b.toml:10:"), std::string::npos) << load.errors[0];
    EXPECT_NE(load.errors[0].find("names no [[backend]] of this file: 'evdev'"), std::string::npos) << load.errors[0];
}

TEST(BackendsConfig, PeerThatIsPerPersonaIsRefused) {
    const auto itself = per_persona_with("per_persona = true\npeer = \"vkbd\"\n");
    EXPECT_TRUE(mentions(itself, "which is per_persona itself")) << (itself.errors.empty() ? "" : itself.errors.front());
    const auto load = load_backends_config(R"(version = 1
[[backend]]
name = "input"
command = ["/usr/bin/a"]
per_persona = true
[[backend]]
name = "vkbd"
command = ["/usr/bin/b"]
per_persona = true
peer = "input"
)",
                                           "b.toml");
    EXPECT_FALSE(load.config);
    EXPECT_TRUE(mentions(load, "b.toml:10:")) << (load.errors.empty() ? "" : load.errors.front());
    EXPECT_TRUE(mentions(load, "'input', which is per_persona itself"));
}

TEST(BackendsConfig, OnePeerServesOnePerPersonaBackend) {
    const auto load = load_backends_config(R"(version = 1
[[backend]]
name = "input"
command = ["/usr/bin/a"]
[[backend]]
name = "vkbd"
command = ["/usr/bin/b"]
per_persona = true
peer = "input"
[[backend]]
name = "vkbd-two"
command = ["/usr/bin/c"]
per_persona = true
peer = "input"
)",
                                           "b.toml");
    EXPECT_FALSE(load.config);
    EXPECT_TRUE(mentions(load, "'input' is already the peer of 'vkbd'"));
}

TEST(BackendsConfig, PerPersonaBackendMayNotWaitForThePersonas) {
    const auto load = per_persona_with("per_persona = true\nafter_personas = true\n");
    EXPECT_FALSE(load.config);
    ASSERT_EQ(load.errors.size(), 1u);
    EXPECT_NE(load.errors[0].find("b.toml:10:"), std::string::npos) << load.errors[0];
    EXPECT_NE(load.errors[0].find("'after_personas' cannot be true for a per_persona backend"), std::string::npos);
    EXPECT_TRUE(per_persona_with("per_persona = true\nafter_personas = false\n").config);
}

TEST(BackendsConfig, PerPersonaFlagsMustBeOfTheirType) {
    EXPECT_TRUE(mentions(per_persona_with("per_persona = \"yes\"\n"), "'per_persona' must be true or false"));
    EXPECT_TRUE(mentions(per_persona_with("per_persona = true\npeer = 3\n"), "'peer' must be the name"));
}

TEST(BackendsConfig, ManagerAddedOptionsAreReserved) {
    // --peer-fd is the manager's in every backend (a peer gets one per persona).
    EXPECT_TRUE(mentions(per_persona_with("", ", \"--peer-fd\", \"5\""), "must not contain --peer-fd"));
    EXPECT_TRUE(mentions(per_persona_with("", ", \"--peer-fd=personal=5\""), "must not contain --peer-fd"));
    // --persona and --domid are the manager's in an instance: a second --persona would make it
    // serve two.
    EXPECT_TRUE(mentions(per_persona_with("per_persona = true\n", ", \"--persona\", \"secure:secure\""),
                         "per_persona backend's 'command' must not contain --persona"));
    EXPECT_TRUE(mentions(per_persona_with("per_persona = true\n", ", \"--domid=3\""),
                         "per_persona backend's 'command' must not contain --domid"));
    // A backend serving every persona names them itself (etc/backends.toml does).
    EXPECT_TRUE(per_persona_with("", ", \"--persona\", \"secure:secure\"").config);
}

TEST(BackendsConfig, ShippedLabFileIsValid) {
    const auto load = load_backends_file(std::string(TWOFOLD_SOURCE_DIR) + "/dom0-tools/manager/etc/backends.toml");
    EXPECT_TRUE(load.config) << (load.errors.empty() ? "" : load.errors.front());
}

} // namespace
} // namespace twofold::manager
