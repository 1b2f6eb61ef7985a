// The simulator served on its unix sockets, driven as QEMU and the lab tests will drive it.
#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <thread>

#include <boost/asio/io_context.hpp>
#include <nlohmann/json.hpp>

#include "line_client.h"
#include "twofold/modem/sim/simulator.h"

namespace twofold::modem::sim {
namespace {

using namespace std::chrono_literals;
using testing::LineClient;

class SimulatorOverSocket : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/twofold-modem-sim-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    dir_ = pattern;
    SimulatorOptions options;
    options.transport = SimulatorOptions::Transport::kUnixSocket;
    options.socket_path = dir_ + "/modem.sock";
    options.control_path = dir_ + "/control.sock";
    options.ring_interval = 50ms;
    simulator_ = std::make_unique<Simulator>(io_, options);
    thread_ = std::thread([this] { io_.run(); });
  }
  void TearDown() override {
    io_.stop();
    if (thread_.joinable()) thread_.join();
    simulator_.reset();
    std::filesystem::remove_all(dir_);
  }
  LineClient dte() { return LineClient::connect_unix(dir_ + "/modem.sock"); }
  std::string control(const std::string& line) {
    LineClient client = LineClient::connect_unix(dir_ + "/control.sock");
    client.send(line + "\n");
    std::string reply = client.read_until("\n");
    if (!reply.empty()) reply.pop_back();
    return reply;
  }

  std::string dir_;
  boost::asio::io_context io_;
  std::unique_ptr<Simulator> simulator_;
  std::thread thread_;
};

TEST_F(SimulatorOverSocket, AtGetsEchoAndOk) {
  LineClient modem = dte();
  ASSERT_TRUE(modem.connected());
  modem.send("AT\r");
  EXPECT_EQ(modem.read_until("OK\r\n"), "AT\r\r\nOK\r\n");
}

TEST_F(SimulatorOverSocket, CommandSplitAcrossWritesIsAnsweredOnce) {
  LineClient modem = dte();
  modem.send("ATE0\r");
  modem.read_until("OK\r\n");
  modem.send("AT+C");
  std::this_thread::sleep_for(20ms);
  modem.send("SQ\r");
  EXPECT_EQ(modem.read_until("OK\r\n"), "\r\n+CSQ: 21,99\r\n\r\nOK\r\n");
}

TEST_F(SimulatorOverSocket, InjectedCallRingsRepeatedlyWithClip) {
  LineClient modem = dte();
  modem.send("ATE0;+CLIP=1\r");
  modem.read_until("OK\r\n");
  EXPECT_EQ(control("call +4930555"), "OK");
  EXPECT_NE(modem.read_until("+CLIP: \"+4930555\",145\r\n"), "");
  EXPECT_NE(modem.read_until("RING\r\n", 2s), "");  // the ring timer's next RING
  modem.send("ATA\r");
  EXPECT_NE(modem.read_until("OK\r\n"), "");
}

TEST_F(SimulatorOverSocket, InjectedSmsCanBeReadBack) {
  LineClient modem = dte();
  modem.send("ATE0;+CMGF=1\r");
  modem.read_until("OK\r\n");
  EXPECT_EQ(control("sms +4915 meet at noon"), "OK");
  EXPECT_NE(modem.read_until("+CMTI: \"SM\",1\r\n"), "");
  modem.send("AT+CMGR=1\r");
  const std::string reply = modem.read_until("OK\r\n");
  EXPECT_NE(reply.find("\r\nmeet at noon\r\n"), std::string::npos) << reply;
}

TEST_F(SimulatorOverSocket, SilentModemDoesNotAnswerUntilResumed) {
  LineClient modem = dte();
  EXPECT_EQ(control("silent on"), "OK");
  modem.send("AT\r");
  EXPECT_EQ(modem.read_until("OK", 300ms), "");
  EXPECT_EQ(control("silent off"), "OK");
  modem.send("AT\r");
  EXPECT_NE(modem.read_until("OK\r\n"), "");
}

TEST_F(SimulatorOverSocket, StateShowsTheDialledCall) {
  LineClient modem = dte();
  modem.send("ATD+4930123;\r");
  modem.read_until("OK\r\n");
  const auto state = nlohmann::json::parse(control("state"));
  ASSERT_EQ(state["calls"].size(), 1u);
  EXPECT_EQ(state["calls"][0]["number"], "+4930123");
}

TEST_F(SimulatorOverSocket, NewConnectionReplacesTheOldOne) {
  LineClient first = dte();
  first.send("AT\r");
  first.read_until("OK\r\n");
  LineClient second = dte();
  EXPECT_TRUE(first.closed_within(2s));
  second.send("AT\r");
  EXPECT_NE(second.read_until("OK\r\n"), "");
}

// A control client that hangs up while its (large) reply is still being written must not take
// the simulator down (it crashed on the lab board: the write outlived its session).
TEST_F(SimulatorOverSocket, ControlClientHangingUpMidReplyLeavesTheSimulatorServing) {
  for (int i = 0; i < 15; ++i) ASSERT_EQ(control("sms +4915 message number " + std::to_string(i)), "OK");
  for (int i = 0; i < 200; ++i) {
    LineClient client = LineClient::connect_unix(dir_ + "/control.sock");
    ASSERT_TRUE(client.send("state\nstate\nstate\n"));
  }  // closed unread
  EXPECT_EQ(control("creg 1"), "OK");
  const auto state = nlohmann::json::parse(control("state"));
  EXPECT_EQ(state["messages"].size(), 15U);
}

TEST_F(SimulatorOverSocket, BadControlLineGetsAnErrorAndTheChannelStaysUp) {
  EXPECT_EQ(control("call not-a-number"), "ERROR bad number");
  EXPECT_EQ(control("creg 1"), "OK");
}

}  // namespace
}  // namespace twofold::modem::sim
