#pragma once
// A private software TPM (Debian's swtpm) per test, on a free loopback port, with its state
// in a temporary folder: the same TPM the lab board gets, so these tests exercise the real
// TPM 2.0 command set (policies, DA lockout, persistent handles), not a mock of it.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "twofold/keystore/tpm.h"

namespace twofold::keystore::testing {

// A stand-in measurement: 32 bytes of c.
inline Digest digest_of(char c) {
  Digest d{};
  d.fill(static_cast<std::uint8_t>(c));
  return d;
}

inline int free_port_pair() {
  // Two consecutive free ports (server, control): bind port 0, then check the next one.
  for (int attempt = 0; attempt < 50; ++attempt) {
    const int s = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
        ::getsockname(s, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
      ::close(s);
      continue;
    }
    const int port = ntohs(a.sin_port);
    ::close(s);
    if (port >= 65535) continue;
    const int t = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in b = a;
    b.sin_port = htons(static_cast<std::uint16_t>(port + 1));
    const bool ok = ::bind(t, reinterpret_cast<sockaddr*>(&b), sizeof b) == 0;
    ::close(t);
    if (ok) return port;
  }
  return -1;
}

class Swtpm {
 public:
  Swtpm() {
    char tmpl[] = "/tmp/twofold-swtpm-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
    std::filesystem::create_directories(dir_ + "/state");
    start();
  }
  ~Swtpm() {
    stop();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  Swtpm(const Swtpm&) = delete;
  Swtpm& operator=(const Swtpm&) = delete;

  // The TPM losing power and coming back: state (keys, DA counter) kept, like a reboot.
  void restart() {
    stop();
    start();
  }
  std::string tcti() const { return "swtpm:host=127.0.0.1,port=" + std::to_string(port_); }
  const std::string& dir() const { return dir_; }

 private:
  void start() {
    port_ = free_port_pair();
    ASSERT_GT(port_, 0) << "no free loopback port pair";
    const std::string server = "type=tcp,bindaddr=127.0.0.1,port=" + std::to_string(port_);
    const std::string ctrl = "type=tcp,bindaddr=127.0.0.1,port=" + std::to_string(port_ + 1);
    const std::string state = "dir=" + dir_ + "/state";
    std::vector<std::string> args = {"swtpm", "socket", "--tpm2", "--tpmstate", state,
                                     "--server", server, "--ctrl", ctrl,
                                     "--flags", "not-need-init,startup-clear"};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    const std::string log = dir_ + "/swtpm.log";
    // Not posix_spawn: swtpm must die with this test process even when a sanitizer aborts it
    // (no destructor runs then), and must not hold ctest's output pipe open, or ctest waits
    // for the pipe until its timeout instead of reporting the abort.
    const pid_t parent = ::getpid();
    pid_ = ::fork();
    ASSERT_GE(pid_, 0) << "fork failed";
    if (pid_ == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != parent) ::_exit(127);
      const int out = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
      const int in = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
      if (out < 0 || in < 0) ::_exit(127);
      ::dup2(in, 0);
      ::dup2(out, 1);
      ::dup2(out, 2);
      ::execvp("swtpm", argv.data());
      ::_exit(127);
    }
    // Ready once the server port accepts a connection.
    for (int i = 0; i < 200; ++i) {
      const int s = ::socket(AF_INET, SOCK_STREAM, 0);
      sockaddr_in a{};
      a.sin_family = AF_INET;
      a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      a.sin_port = htons(static_cast<std::uint16_t>(port_));
      const bool up = ::connect(s, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
      ::close(s);
      if (up) return;
      int status = 0;
      ASSERT_EQ(::waitpid(pid_, &status, WNOHANG), 0)
          << "swtpm exited at start (not installed? scripts/setup installs it; log: " << log << ")";
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    FAIL() << "swtpm did not listen on port " << port_;
  }
  void stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
  }

  std::string dir_;
  int port_ = -1;
  pid_t pid_ = -1;
};

}  // namespace twofold::keystore::testing
