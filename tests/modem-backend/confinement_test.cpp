// The modem backend's seccomp allowlist: the base set with ioctl narrowed to its own requests.
#include <gtest/gtest.h>

#include <sys/ioctl.h>

#include "twofold/modem/backend/confinement.h"

namespace twofold::modem::backend {
namespace {

TEST(ModemConfinement, IoctlIsNarrowedToGrantsEventChannelsAndFionbio) {
  const auto list = modem_allowlist();
  const auto rule = list.rule("ioctl");
  ASSERT_TRUE(rule.has_value());
  EXPECT_EQ(rule->values, modem_ioctls());
  EXPECT_TRUE(rule->values.contains(FIONBIO));
  EXPECT_FALSE(rule->values.contains(TCSETS));  // the line is configured before confinement
}

TEST(ModemConfinement, NothingNewCanBeOpenedOrStarted) {
  const auto list = modem_allowlist();
  for (const char* syscall : {"openat", "open", "socket", "connect", "execve", "clone", "fork", "ptrace", "kill"}) {
    EXPECT_FALSE(list.contains(syscall)) << syscall;
  }
  EXPECT_TRUE(list.contains("read"));
  EXPECT_TRUE(list.contains("epoll_wait"));
}

}  // namespace
}  // namespace twofold::modem::backend
