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

TEST(BackendsConfig, ShippedLabFileIsValid) {
    const auto load = load_backends_file(std::string(TWOFOLD_SOURCE_DIR) + "/dom0-tools/manager/etc/backends.toml");
    EXPECT_TRUE(load.config) << (load.errors.empty() ? "" : load.errors.front());
}

} // namespace
} // namespace twofold::manager
