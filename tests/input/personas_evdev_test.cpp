#include <system_error>

#include <gtest/gtest.h>

#include "twofold/input/evdev_source.h"
#include "twofold/input/personas.h"

namespace twofold::input {
namespace {

TEST(PersonaOption, NameAndKindAreParsed) {
    const auto parsed = parse_persona_option("secure:secure");
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(parsed.value().name, "secure");
    EXPECT_EQ(parsed.value().trust, Trust::Secure);
}

TEST(PersonaOption, UnknownKindIsAnError) { EXPECT_FALSE(parse_persona_option("work:trusted").ok()); }

TEST(PersonaOption, NameOutsideFocusLinkRulesIsAnError) { EXPECT_FALSE(parse_persona_option("Work Phone:personal").ok()); }

TEST(Personas, RepeatedNameIsAConfigurationError) {
    EXPECT_THROW(Personas({{"a", Trust::Secure}, {"a", Trust::Personal}}), std::invalid_argument);
}

TEST(EvdevSource, MissingNodeIsAnErrorNamingIt) {
    try {
        (void)EvdevSource::open("/nonexistent/event0");
        FAIL() << "expected an error";
    } catch (const std::system_error& error) {
        EXPECT_EQ(error.code().value(), ENOENT);
        EXPECT_NE(std::string(error.what()).find("/nonexistent/event0"), std::string::npos);
    }
}

TEST(EvdevSource, NodeThatIsNoEvdevDeviceIsAnError) {
    EXPECT_THROW((void)EvdevSource::open("/dev/null"), std::system_error);
}

TEST(EvdevSource, NameSearchInADirectoryWithoutDevicesFindsNothing) {
    EXPECT_TRUE(find_devices_by_name("virtio_input", "/nonexistent").empty());
}

TEST(EvdevSource, KeyNamesResolveThroughLibevdev) {
    EXPECT_EQ(key_code_from_name("KEY_POWER"), 116U);
    EXPECT_FALSE(key_code_from_name("KEY_NO_SUCH_THING").has_value());
}

} // namespace
} // namespace twofold::input
