// The mediator against the modem simulator over its unix socket (as the lab's QEMU chardev
// sees it), driven through the simulator's control channel: real byte timing, partial
// reads and the simulator's own ring timer.
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <string>
#include <thread>

#include <boost/asio/io_context.hpp>
#include <boost/asio/executor_work_guard.hpp>

#include "mediator_harness.h"
#include "twofold/modem/sim/simulator.h"
#include "twofold/xen/unique_fd.h"

namespace twofold::modem::mediator::testing {
namespace {

using namespace std::chrono_literals;

using Fd = twofold::xen::UniqueFd;

Fd connect_unix(const std::string& path) {
  Fd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::strncpy(address.sun_path, path.c_str(), sizeof(address.sun_path) - 1);
  if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) return Fd();
  return fd;
}

class SocketRig : public ModemPort, public PersonaPort {
 public:
  using Clock = Mediator::Clock;

  explicit SocketRig(MediatorConfig config)
      : dir_(make_dir()),
        simulator_(io_, options(dir_)),
        thread_([this] { io_.run(); }),
        modem_fd_(connect_unix(dir_ + "/modem.sock")),
        control_fd_(connect_unix(dir_ + "/control.sock")),
        mediator_(std::move(config), *this, *this, audit, NumberRedactor(policy::NumberLogging::clear, {}),
                  [this](std::string_view line) { log.emplace_back(line); }) {
    mediator_.start(Clock::now());
  }
  ~SocketRig() override {
    work_.reset();
    io_.stop();
    thread_.join();
    std::filesystem::remove_all(dir_);
  }

  bool connected() const { return modem_fd_.get() >= 0 && control_fd_.get() >= 0; }

  void to_modem(std::string_view bytes) override { down_ += bytes; }
  void to_persona(PersonaIndex persona, std::string_view bytes) override { output[persona] += bytes; }

  void write(PersonaIndex persona, std::string_view bytes) { input_[persona] += bytes; }

  // Runs the byte pump until `done` or the timeout; true when `done`.
  bool run_until(const std::function<bool()>& done, std::chrono::milliseconds timeout = 3s) {
    const auto deadline = Clock::now() + timeout;
    while (Clock::now() < deadline) {
      step();
      if (done()) return true;
    }
    return false;
  }
  void run_for(std::chrono::milliseconds duration) {
    run_until([] { return false; }, duration);
  }
  bool wait_for(PersonaIndex persona, std::string_view text, std::chrono::milliseconds timeout = 3s) {
    return run_until([&] { return output[persona].find(text) != std::string::npos; }, timeout);
  }

  // One control-channel command; its reply line.
  std::string control(std::string_view line) {
    const std::string text = std::string(line) + "\n";
    if (::write(control_fd_.get(), text.data(), text.size()) != static_cast<ssize_t>(text.size())) return {};
    std::string reply;
    const auto deadline = Clock::now() + 3s;
    while (reply.find('\n') == std::string::npos && Clock::now() < deadline) {
      pollfd p{control_fd_.get(), POLLIN, 0};
      if (::poll(&p, 1, 20) > 0) {
        std::array<char, 512> chunk{};
        const ssize_t n = ::read(control_fd_.get(), chunk.data(), chunk.size());
        if (n <= 0) break;
        reply.append(chunk.data(), static_cast<std::size_t>(n));
      }
    }
    return reply;
  }

  Mediator& mediator() { return mediator_; }
  CollectingSink audit;
  std::vector<std::string> log;
  std::array<std::string, 2> output;

 private:
  static std::string make_dir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "twofold-mediator-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    return pattern;
  }
  static sim::SimulatorOptions options(const std::string& dir) {
    sim::SimulatorOptions o;
    o.transport = sim::SimulatorOptions::Transport::kUnixSocket;
    o.socket_path = dir + "/modem.sock";
    o.control_path = dir + "/control.sock";
    o.ring_interval = 50ms;
    return o;
  }

  void step() {
    const auto now = Clock::now();
    for (PersonaIndex p = 0; p < 2; ++p) input_[p].erase(0, mediator_.from_persona(p, input_[p], now));
    while (!down_.empty()) {
      const ssize_t n = ::write(modem_fd_.get(), down_.data(), down_.size());
      if (n <= 0) break;
      down_.erase(0, static_cast<std::size_t>(n));
    }
    pollfd p{modem_fd_.get(), POLLIN, 0};
    if (::poll(&p, 1, 5) > 0) {
      std::array<char, 4096> chunk{};
      const ssize_t n = ::read(modem_fd_.get(), chunk.data(), chunk.size());
      if (n > 0) mediator_.from_modem(std::string_view(chunk.data(), static_cast<std::size_t>(n)), Clock::now());
    }
    mediator_.tick(Clock::now());
  }

  std::string dir_;
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_{io_.get_executor()};
  sim::Simulator simulator_;
  std::thread thread_;
  Fd modem_fd_;
  Fd control_fd_;
  std::string down_;
  std::array<std::string, 2> input_;
  Mediator mediator_;
};

class MediatorOverSocket : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(rig.connected());
    for (PersonaIndex p : {kPersonal, kSecure}) {
      rig.write(p, "ATE0\rAT+CLIP=1;+CREG=1\r");
      ASSERT_TRUE(rig.run_until([&] { return rig.output[p].find("OK\r\n\r\nOK\r\n") != std::string::npos; }));
      rig.output[p].clear();
    }
  }
  SocketRig rig{default_config()};
};

TEST_F(MediatorOverSocket, SecureDialsAndThePersonalPersonaSeesNoTrace) {
  rig.write(kSecure, "ATD+4930123456;\r");
  ASSERT_TRUE(rig.wait_for(kSecure, "OK\r\n"));
  rig.write(kPersonal, "AT+CLCC\r");
  ASSERT_TRUE(rig.wait_for(kPersonal, "OK\r\n"));
  EXPECT_EQ(rig.output[kPersonal], "\r\nOK\r\n");
  rig.output[kPersonal].clear();
  EXPECT_EQ(rig.control("answer"), "OK\n");
  EXPECT_EQ(rig.control("hangup"), "OK\n");
  EXPECT_TRUE(rig.wait_for(kSecure, "NO CARRIER"));
  rig.run_for(200ms);
  EXPECT_EQ(rig.output[kPersonal], "");
}

TEST_F(MediatorOverSocket, IncomingCallAndSmsReachOnlyTheForegroundPersona) {
  rig.mediator().set_foreground(kSecure);
  EXPECT_EQ(rig.control("call +4940111"), "OK\n");
  EXPECT_TRUE(rig.wait_for(kSecure, "+CLIP: \"+4940111\",145"));
  rig.run_for(200ms);  // several ring intervals
  EXPECT_EQ(rig.output[kPersonal], "");
  rig.write(kSecure, "ATA\r");
  EXPECT_TRUE(rig.wait_for(kSecure, "OK\r\n"));
  EXPECT_EQ(rig.control("hangup"), "OK\n");
  EXPECT_TRUE(rig.wait_for(kSecure, "NO CARRIER")) << rig.output[kSecure] << ::testing::PrintToString(rig.log);
  EXPECT_EQ(rig.control("sms +4940222 meet at noon"), "OK\n");
  EXPECT_TRUE(rig.wait_for(kSecure, "+CMTI: \"SM\",1"));
  rig.run_for(100ms);
  EXPECT_EQ(rig.output[kPersonal], "");
  EXPECT_EQ(rig.audit.count("modem.call"), 1U);
  EXPECT_EQ(rig.audit.count("modem.sms"), 1U);
}

}  // namespace
}  // namespace twofold::modem::mediator::testing
