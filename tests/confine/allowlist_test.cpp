#include <sys/mman.h>
#include <sys/ioctl.h>

#include <stdexcept>

#include <gtest/gtest.h>

#include "twofold/confine/confine.h"

namespace twofold::confine {
namespace {

TEST(SyscallAllowlist, BaseOmitsProcessFileAndNetworkCreation) {
    const auto base = base_allowlist();
    for (const char* name : {"openat", "open", "socket", "connect", "execve", "clone", "clone3", "fork", "ptrace", "kill"}) {
        EXPECT_FALSE(base.contains(name)) << name;
    }
}

TEST(SyscallAllowlist, BaseHasTheEventLoopSyscallsOfBothArchitectures) {
    const auto base = base_allowlist();
    for (const char* name : {"epoll_pwait", "epoll_wait", "eventfd2", "timerfd_settime", "futex", "ppoll", "poll"}) {
        EXPECT_TRUE(base.contains(name)) << name;
    }
}

TEST(SyscallAllowlist, AllowIoctlsNarrowsAnUnconditionalIoctl) {
    auto list = base_allowlist().allow_ioctls({FIONREAD});
    const auto rule = list.rule("ioctl");
    ASSERT_TRUE(rule.has_value());
    EXPECT_EQ(rule->index, 1U);
    EXPECT_EQ(rule->values, (std::set<std::uint64_t>{FIONREAD}));
}

TEST(SyscallAllowlist, RepeatedArgumentRulesAddValues) {
    SyscallAllowlist list("x");
    list.allow_ioctls({1}).allow_ioctls({2});
    EXPECT_EQ(list.rule("ioctl")->values, (std::set<std::uint64_t>{1, 2}));
}

TEST(SyscallAllowlist, ConflictingArgumentIndexIsRejected) {
    SyscallAllowlist list("x");
    list.allow_if_argument("socket", 0, {2});
    EXPECT_THROW(list.allow_if_argument("socket", 1, {1}), std::invalid_argument);
}

TEST(SyscallAllowlist, MergeKeepsTheWiderRule) {
    SyscallAllowlist narrow("narrow");
    narrow.allow_ioctls({1});
    SyscallAllowlist wide("wide");
    wide.allow("ioctl");
    narrow.merge(wide);
    EXPECT_TRUE(narrow.contains("ioctl"));
    EXPECT_FALSE(narrow.rule("ioctl").has_value());
}

TEST(SyscallAllowlist, DenyRemovesAnEntry) {
    auto list = base_allowlist().deny("sendto");
    EXPECT_FALSE(list.contains("sendto"));
}

} // namespace
} // namespace twofold::confine

namespace twofold::confine {
namespace {

TEST(SyscallAllowlist, IoctlFamilyAndExactRequestsShareOneRule) {
    SyscallAllowlist list("x");
    list.allow_ioctls({1}).allow_ioctl_family(0xff00, 0x4500);
    const auto rule = list.rule("ioctl");
    ASSERT_TRUE(rule.has_value());
    EXPECT_EQ(rule->values, (std::set<std::uint64_t>{1}));
    EXPECT_EQ(rule->masked, (std::set<std::pair<std::uint64_t, std::uint64_t>>{{0xff00, 0x4500}}));
}

TEST(SyscallAllowlist, BaseMapsAndProtectsOnlyWithoutExec) {
    const auto base = base_allowlist();
    for (const char* name : {"mmap", "mprotect"}) {
        const auto rule = base.rule(name);
        ASSERT_TRUE(rule.has_value()) << name << " is unconditional";
        EXPECT_EQ(rule->index, 2U) << name;
        EXPECT_TRUE(rule->values.empty()) << name;
        EXPECT_EQ(rule->masked, (std::set<std::pair<std::uint64_t, std::uint64_t>>{{PROT_EXEC, 0}})) << name;
    }
    EXPECT_FALSE(base.contains("pkey_mprotect"));
}

TEST(SyscallAllowlist, MaskedValueOutsideItsMaskIsRejected) {
    SyscallAllowlist list("test");
    EXPECT_THROW(list.allow_if_masked("mmap", 2, PROT_EXEC, PROT_WRITE), std::invalid_argument);
}

} // namespace
} // namespace twofold::confine
