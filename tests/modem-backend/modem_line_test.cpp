// The serial side: a raw tty (the simulator's pty, as QEMU's chardev shows it to dom0).
#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include <boost/asio/io_context.hpp>

#include "twofold/modem/backend/modem_line.h"
#include "twofold/modem/sim/simulator.h"

namespace twofold::modem::backend {
namespace {

TEST(ModemLine, RawTtyCarriesCommandsAndAnswersUnchanged) {
  boost::asio::io_context io;
  sim::SimulatorOptions options;
  options.transport = sim::SimulatorOptions::Transport::kPty;
  sim::Simulator simulator(io, options);
  std::string received;
  std::string closed;
  ModemLine line(io, open_modem_tty(simulator.pty_path(), 115200),
                 [&](std::string_view bytes) { received += bytes; }, [&](const std::string& why) { closed = why; });
  line.start();
  // CR must reach the modem as CR (no ICRNL/OPOST translation on a raw line).
  line.to_modem("ATE0\r");
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (received.find("OK\r\n") == std::string::npos && std::chrono::steady_clock::now() < deadline) {
    io.run_for(std::chrono::milliseconds(5));
  }
  EXPECT_EQ(received, "ATE0\r\r\nOK\r\n");
  EXPECT_EQ(closed, "");
}

TEST(ModemLine, UnsupportedBaudRateIsRefused) {
  EXPECT_THROW((void)baud_constant(12345), std::invalid_argument);
  EXPECT_THROW((void)open_modem_tty("/dev/null", 300), std::invalid_argument);
}

TEST(ModemLine, MissingSocketIsAnErrorNamingThePath) {
  try {
    (void)connect_modem_socket("/nonexistent/modem.sock");
    FAIL() << "connected to nothing";
  } catch (const std::system_error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/modem.sock"), std::string::npos);
  }
}

}  // namespace
}  // namespace twofold::modem::backend
