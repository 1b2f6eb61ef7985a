#pragma once
// The modem backend as the manager runs it, on the loopback: two simulated hvc_xen consoles
// (personal, secure), twofold-modem-sim's Simulator on a unix socket, and the manager's end
// of the focus link. Everything runs on the test thread (run_until polls every loop).
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <spdlog/logger.h>

#include "hvc_front.h"
#include "twofold/focus/focus_protocol.h"
#include "twofold/modem/backend/modem_backend.h"
#include "twofold/modem/sim/simulator.h"
#include "twofold/policy/loader.h"

namespace twofold::modem::backend::testing {

inline ModemBackendConfig lab_config() {
  auto loaded = policy::load_policy_file(TWOFOLD_MODEM_TEST_POLICY);
  if (!loaded.policy || policy::has_errors(loaded.findings)) throw std::runtime_error("test policy does not load");
  auto built = build_config(*loaded.policy, {{"personal", policy::PersonaKind::personal},
                                             {"secure", policy::PersonaKind::secure}});
  if (!built) throw std::runtime_error(built.error().message);
  ModemBackendConfig config = built.value().config;
  config.tick = std::chrono::milliseconds(10);
  config.mediator.command_timeout = std::chrono::milliseconds(2000);
  return config;
}

class ModemBackendFixture : public ::testing::Test {
 protected:
  ModemBackendFixture() {
    char templ[] = "/tmp/twofold-modem-backend-XXXXXX";
    dir_ = ::mkdtemp(templ);
    sim::SimulatorOptions options;
    options.socket_path = (dir_ / "modem.sock").string();
    options.ring_interval = std::chrono::milliseconds(50);
    simulator_ = std::make_unique<sim::Simulator>(sim_io_, options);
    int fds[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, fds) != 0) throw std::runtime_error("socketpair");
    manager_end_ = xen::UniqueFd(fds[0]);
    backend_ = std::make_unique<ModemBackend>(*dom0_, lab_config(),
                                              mediator::NumberRedactor(policy::NumberLogging::clear, {}),
                                              connect_modem_socket(options.socket_path), xen::UniqueFd(fds[1]), log_);
  }
  ~ModemBackendFixture() override {
    backend_.reset();
    simulator_.reset();
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  // Runs the backend, the simulator and the manager's reader until predicate() holds.
  bool run_until(const std::function<bool()>& predicate, std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!predicate()) {
      if (std::chrono::steady_clock::now() >= deadline) return false;
      step();
    }
    return true;
  }
  void step() {
    if (!backend_->io().stopped()) backend_->io().run_for(std::chrono::milliseconds(1));
    sim_io_.poll();
    if (sim_io_.stopped()) sim_io_.restart();
    read_manager_end();
    personal.read();
    secure.read();
  }
  void settle(std::chrono::milliseconds duration = std::chrono::milliseconds(100)) {
    const auto until = std::chrono::steady_clock::now() + duration;
    (void)run_until([&] { return std::chrono::steady_clock::now() >= until; });
  }

  bool connect(HvcFront& console) {
    console.plumb();
    console.start();
    if (!run_until([&] { return console.backend_state() == "4"; })) return false;
    console.set_connected();
    return true;
  }
  void start_with_both_personas() {
    backend_->start();
    ASSERT_TRUE(connect(personal));
    ASSERT_TRUE(connect(secure));
    ASSERT_TRUE(run_until([&] { return backend_->mediator().idle(); }));
    // Echo off, so that answers are compared without the command echoed.
    for (HvcFront* console : {&personal, &secure}) ASSERT_EQ(command(*console, "ATE0"), "ATE0\r\r\nOK\r\n");
  }

  // Sends one line and waits for its final result; returns what the persona received.
  std::string command(HvcFront& console, std::string_view line,
                      std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
    console.received().clear();
    const std::string text = std::string(line) + "\r";
    EXPECT_EQ(console.write(text), text.size());
    (void)run_until([&] { return has_final(console.received()); }, timeout);
    return console.received();
  }
  static bool has_final(const std::string& text) {
    for (const char* final : {"\r\nOK\r\n", "\r\nERROR\r\n", "\r\n+CME ERROR", "\r\n+CMS ERROR", "\r\nNO CARRIER\r\n"}) {
      if (text.find(final) != std::string::npos) return true;
    }
    return false;
  }

  void send_to_backend(const focus::ToBackend& message) {
    const std::string line = focus::format(message) + "\n";
    ASSERT_EQ(::write(manager_end_.get(), line.data(), line.size()), static_cast<ssize_t>(line.size()));
  }
  // Every message the backend sent on the focus link, parsed as the manager parses it.
  std::vector<focus::ToManager> manager_received;
  template <class T>
  std::vector<T> received_of() const {
    std::vector<T> out;
    for (const auto& m : manager_received) {
      if (const auto* typed = std::get_if<T>(&m)) out.push_back(*typed);
    }
    return out;
  }
  void close_manager_end() { manager_end_.reset(); }

  std::shared_ptr<spdlog::logger> log_ = std::make_shared<spdlog::logger>("modem-test");
  loopback::Hypervisor hv;
  xenbus::testing::Toolstack toolstack{hv};
  std::unique_ptr<xen::Platform> dom0_ = hv.platform(xen::kDom0);
  HvcFront personal{hv, toolstack, "personal"};
  HvcFront secure{hv, toolstack, "secure"};
  boost::asio::io_context sim_io_;
  std::unique_ptr<sim::Simulator> simulator_;
  std::unique_ptr<ModemBackend> backend_;

 private:
  void read_manager_end() {
    if (manager_end_.get() < 0) return;
    char buffer[4096];
    for (;;) {
      const ssize_t n = ::read(manager_end_.get(), buffer, sizeof buffer);
      if (n <= 0) break;
      partial_.append(buffer, static_cast<std::size_t>(n));
    }
    for (auto nl = partial_.find('\n'); nl != std::string::npos; nl = partial_.find('\n')) {
      auto parsed = focus::parse_to_manager(std::string_view(partial_).substr(0, nl));
      partial_.erase(0, nl + 1);
      if (const auto* message = std::get_if<focus::ToManager>(&parsed)) {
        manager_received.push_back(*message);
      } else {
        ADD_FAILURE() << "backend sent an unparsable focus line: " << std::get<focus::ParseError>(parsed).message;
      }
    }
  }

  std::filesystem::path dir_;
  xen::UniqueFd manager_end_;
  std::string partial_;
};

}  // namespace twofold::modem::backend::testing
