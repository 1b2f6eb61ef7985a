#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <csignal>
#include <cstdlib>
#include <ctime>
#include <string>

#include <gtest/gtest.h>

#include "child.h"
#include "twofold/confine/confine.h"
#include "twofold/confine/options.h"

namespace twofold::confine {
namespace {

using testing::exited_with;
using testing::run_in_child;

// The drop tests need root to drop from; the build machine and the board both run them as root.
class DropPrivileges : public ::testing::Test {
protected:
    void SetUp() override { ASSERT_EQ(geteuid(), 0U) << "these tests drop from root"; }
};

TEST_F(DropPrivileges, NobodyCannotSetuidBackToRoot) {
    const int status = run_in_child([] {
        drop_privileges("nobody");
        return setuid(0) == -1 && errno == EPERM ? 0 : 1;
    });
    EXPECT_TRUE(exited_with(status, 0)) << "status " << status;
}

TEST_F(DropPrivileges, NobodyRunsWithNobodysIds) {
    const passwd* nobody = getpwnam("nobody");
    ASSERT_NE(nobody, nullptr);
    const uid_t uid = nobody->pw_uid;
    const gid_t gid = nobody->pw_gid;
    const int status = run_in_child([uid, gid] {
        drop_privileges("nobody");
        uid_t r = 0, e = 0, s = 0;
        gid_t rg = 0, eg = 0, sg = 0;
        getresuid(&r, &e, &s);
        getresgid(&rg, &eg, &sg);
        return r == uid && e == uid && s == uid && rg == gid && eg == gid && sg == gid ? 0 : 1;
    });
    EXPECT_TRUE(exited_with(status, 0)) << "status " << status;
}

TEST_F(DropPrivileges, NobodyCannotOpenRootOnlyFile) {
    char path[] = "/tmp/twofold-confine-XXXXXX";
    const int fd = mkstemp(path);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(fchmod(fd, 0600), 0);
    close(fd);
    const std::string file = path;
    const int status = run_in_child([&file] {
        drop_privileges("nobody");
        const int opened = open(file.c_str(), O_RDONLY);
        return opened == -1 && errno == EACCES ? 0 : 1;
    });
    unlink(path);
    EXPECT_TRUE(exited_with(status, 0)) << "status " << status;
}

TEST_F(DropPrivileges, NobodyKeepsNoSupplementaryRootGroup) {
    const int status = run_in_child([] {
        drop_privileges("nobody");
        gid_t groups[64];
        const int count = getgroups(64, groups);
        for (int i = 0; i < count; ++i) {
            if (groups[i] == 0) return 1;
        }
        return count >= 1 ? 0 : 2;
    });
    EXPECT_TRUE(exited_with(status, 0)) << "status " << status;
}

TEST_F(DropPrivileges, SetsNoNewPrivs) {
    const int status = run_in_child([] {
        drop_privileges("nobody");
        return prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1 ? 0 : 1;
    });
    EXPECT_TRUE(exited_with(status, 0)) << "status " << status;
}

// A backend's first log line after confinement formats a local time: the time zone must be
// loaded by apply(), not lazily by localtime (openat, outside every allowlist). A new TZ value
// set in the child makes libc reload the zone at the next localtime() unless apply() did.
TEST_F(DropPrivileges, LocalTimeWorksAfterConfinement) {
    const int status = run_in_child([] {
        setenv("TZ", ":/etc/localtime", 1);
        Options options = default_options("nobody");
        apply(options, base_allowlist());
        const std::time_t now = std::time(nullptr);
        return std::localtime(&now) != nullptr ? 0 : 1;
    });
    EXPECT_TRUE(exited_with(status, 0)) << "status " << status << " (SIGSYS is " << SIGSYS << ")";
}

TEST(DropPrivilegesErrors, UnknownUserIsAClearError) {
    try {
        drop_privileges("twofold-no-such-user");
        FAIL() << "expected ConfineError";
    } catch (const ConfineError& error) {
        EXPECT_EQ(error.code().value(), ENOENT);
        EXPECT_EQ(error.subject(), "twofold-no-such-user");
        EXPECT_NE(std::string(error.what()).find("twofold-no-such-user"), std::string::npos);
    }
}

TEST(DropPrivilegesErrors, RootIsRefusedAsATarget) {
    try {
        drop_privileges("root");
        FAIL() << "expected ConfineError";
    } catch (const ConfineError& error) {
        EXPECT_EQ(error.code().value(), EPERM);
        EXPECT_EQ(error.subject(), "root");
    }
}

} // namespace
} // namespace twofold::confine
