#include <gtest/gtest.h>

#include "twofold/confine/options.h"

namespace twofold::confine {
namespace {

Options parse(std::vector<std::string> args) {
    CLI::App app;
    auto options = default_options("twofold-input");
    add_options(app, options);
    std::reverse(args.begin(), args.end());
    app.parse(args);
    return options;
}

TEST(ConfineOptions, DefaultsConfineAsTheBackendUserWithKill) {
    const auto options = parse({});
    EXPECT_EQ(options.user, "twofold-input");
    EXPECT_FALSE(options.no_confine);
    EXPECT_EQ(options.mode, SeccompMode::Kill);
}

TEST(ConfineOptions, FlagsAreParsed) {
    const auto options = parse({"--user", "nobody", "--no-confine", "--seccomp=log"});
    EXPECT_EQ(options.user, "nobody");
    EXPECT_TRUE(options.no_confine);
    EXPECT_EQ(options.mode, SeccompMode::Log);
}

TEST(ConfineOptions, UnknownSeccompModeIsRejected) { EXPECT_THROW(parse({"--seccomp=errno"}), CLI::ValidationError); }

TEST(ConfineOptions, NoConfineAppliesNothing) {
    auto options = default_options("twofold-no-such-user");
    options.no_confine = true;
    EXPECT_FALSE(apply(options, base_allowlist()).confined);
}

} // namespace
} // namespace twofold::confine
