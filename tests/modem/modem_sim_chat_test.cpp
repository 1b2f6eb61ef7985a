// Interoperation: Debian's ppp `chat` runs a script against twofold-modem-sim's pty.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "line_client.h"

extern char** environ;

namespace twofold::modem {
namespace {

using namespace std::chrono_literals;
using testing::LineClient;

// A child process with its stdout on a pipe; terminated and reaped on destruction.
class Child {
 public:
  Child(const std::vector<std::string>& argv, int stdin_fd = -1, int stdout_fd = -1) {
    int out[2] = {-1, -1};
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    if (stdout_fd < 0 && ::pipe2(out, O_CLOEXEC) == 0) {
      posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
    } else if (stdout_fd >= 0) {
      posix_spawn_file_actions_adddup2(&actions, stdout_fd, STDOUT_FILENO);
    }
    if (stdin_fd >= 0) posix_spawn_file_actions_adddup2(&actions, stdin_fd, STDIN_FILENO);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    if (::posix_spawn(&pid_, args[0], &actions, nullptr, args.data(), environ) != 0) pid_ = -1;
    posix_spawn_file_actions_destroy(&actions);
    if (out[1] >= 0) ::close(out[1]);
    stdout_ = out[0];
  }
  ~Child() {
    if (pid_ > 0 && !reaped_) {
      ::kill(pid_, SIGTERM);
      ::waitpid(pid_, nullptr, 0);
    }
    if (stdout_ >= 0) ::close(stdout_);
  }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  bool started() const { return pid_ > 0; }
  LineClient take_stdout() { return LineClient(std::exchange(stdout_, -1)); }
  // Exit status, or -1 if it did not exit within the timeout.
  int wait(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        reaped_ = true;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      }
      ::usleep(20000);
    }
    return -1;
  }

 private:
  pid_t pid_ = -1;
  int stdout_ = -1;
  bool reaped_ = false;
};

TEST(ModemSimulatorInterop, PppChatScriptDialsThroughThePty) {
  ASSERT_TRUE(std::filesystem::exists(TWOFOLD_CHAT_PROGRAM))
      << TWOFOLD_CHAT_PROGRAM << " missing: install Debian's ppp package (scripts/setup)";
  char pattern[] = "/tmp/twofold-modem-chat-XXXXXX";
  ASSERT_NE(::mkdtemp(pattern), nullptr);
  const std::string dir = pattern;
  const std::string control_path = dir + "/control.sock";

  Child simulator({TWOFOLD_MODEM_SIM, "--pty", "--control", control_path});
  ASSERT_TRUE(simulator.started());
  LineClient simulator_stdout = simulator.take_stdout();
  std::string pty = simulator_stdout.read_until("\n");
  ASSERT_FALSE(pty.empty()) << "simulator printed no pty path";
  pty.pop_back();

  const int tty = ::open(pty.c_str(), O_RDWR | O_NOCTTY | O_CLOEXEC);
  ASSERT_GE(tty, 0) << pty;
  // expect/send pairs; "\\c" sends nothing, so "Twofold" and its "OK" are both awaited.
  Child chat({TWOFOLD_CHAT_PROGRAM, "-s", "-t", "5", "", "ATZ", "OK", "AT+CGMI", "Twofold", "\\c", "OK",
              "ATD+4930123456;", "OK", "AT+CLCC", "+CLCC: 1,0,3", "\\c", "OK", "ATH", "OK"},
             tty, tty);
  ::close(tty);
  ASSERT_TRUE(chat.started());
  EXPECT_EQ(chat.wait(20s), 0) << "chat did not complete its script";

  LineClient control = LineClient::connect_unix(control_path);
  ASSERT_TRUE(control.connected());
  control.send("state\n");
  const auto state = nlohmann::json::parse(control.read_until("\n"));
  EXPECT_EQ(state["last_line"], "ATH");
  EXPECT_TRUE(state["calls"].empty());
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace twofold::modem
