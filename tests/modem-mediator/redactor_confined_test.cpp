// Its own executable on purpose: the test needs a process in which OpenSSL has not been used
// yet, as in twofold-modem-backend when it confines itself (nothing else here touches OpenSSL).
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdint>
#include <vector>

#include <gtest/gtest.h>

#include "twofold/confine/confine.h"
#include "twofold/modem/mediator/audit_reporter.h"

namespace twofold::modem::mediator {
namespace {

TEST(NumberRedactorConfined, HashesNumbersAfterTheProcessMayNoLongerOpenFiles) {
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    int code = 1;
    try {
      NumberRedactor redactor(policy::NumberLogging::hashed, std::vector<std::uint8_t>(32, 0x5a));
      confine::install_seccomp(confine::base_allowlist(), confine::SeccompMode::Kill);
      const auto hashed = redactor.redact("+4930123456");
      code = hashed && hashed->starts_with("hmac-sha256:") ? 0 : 2;
    } catch (...) {
      code = 3;
    }
    _exit(code);
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
  }
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
      << "status " << status << (WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS ? " (killed by seccomp)" : "");
}

}  // namespace
}  // namespace twofold::modem::mediator
