// twofold-modem-sim: an AT modem for the lab and the tests (see docs/modem.md).
#include <csignal>
#include <iostream>

#include <CLI/CLI.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include "twofold/modem/sim/simulator.h"

int main(int argc, char** argv) {
  using twofold::modem::sim::SimulatorOptions;
  CLI::App app{"Simulated 3GPP AT modem (27.007/27.005) for twofold's lab and tests"};
  SimulatorOptions options;
  std::string socket_path;
  bool use_pty = false;
  bool use_stdio = false;
  std::string pty_link;
  std::string control_path;
  int ring_ms = 3000;
  std::size_t storage = options.modem.storage_capacity;
  auto* socket_option = app.add_option("--socket", socket_path, "serve the modem on this unix socket (QEMU chardev)");
  auto* pty_option = app.add_flag("--pty", use_pty, "serve the modem on a new pty and print its path");
  auto* stdio_option = app.add_flag("--stdio", use_stdio, "serve the modem on stdin/stdout");
  socket_option->excludes(pty_option)->excludes(stdio_option);
  pty_option->excludes(stdio_option);
  app.add_option("--pty-link", pty_link, "with --pty: also create this symlink to the pty")->needs(pty_option);
  app.add_option("--control", control_path, "control channel unix socket (inject calls, SMS...)");
  app.add_option("--ring-interval-ms", ring_ms, "interval between RINGs of an incoming call")->check(CLI::Range(10, 60000));
  app.add_option("--storage", storage, "SIM message slots")->check(CLI::Range(1, 255));
  CLI11_PARSE(app, argc, argv);
  if (socket_path.empty() && !use_pty && !use_stdio) {
    std::cerr << "twofold-modem-sim: choose one of --socket PATH, --pty, --stdio\n";
    return 2;
  }
  options.transport = use_pty ? SimulatorOptions::Transport::kPty
                              : (use_stdio ? SimulatorOptions::Transport::kStdio : SimulatorOptions::Transport::kUnixSocket);
  options.socket_path = socket_path;
  if (!pty_link.empty()) options.pty_link = pty_link;
  if (!control_path.empty()) options.control_path = control_path;
  options.ring_interval = std::chrono::milliseconds(ring_ms);
  options.modem.storage_capacity = storage;
  std::signal(SIGPIPE, SIG_IGN);  // a DTE that disconnects mid-write is routine

  try {
    boost::asio::io_context io;
    twofold::modem::sim::Simulator simulator(io, options);
    boost::asio::signal_set signals(io, SIGINT, SIGTERM);
    signals.async_wait([&io](const boost::system::error_code&, int) { io.stop(); });
    if (use_pty) std::cout << simulator.pty_path() << std::endl;
    if (!use_stdio) std::cerr << "twofold-modem-sim: ready" << std::endl;
    io.run();
  } catch (const std::exception& error) {
    std::cerr << "twofold-modem-sim: " << error.what() << "\n";
    return 1;
  }
  return 0;
}
