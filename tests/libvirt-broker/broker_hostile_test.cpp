// BrokerClient against a broker that misbehaves (fake_broker.cpp): every kind of bad reply is
// a LibvirtError that says what went wrong, the broker is killed, and the next call works
// with a new one.
#include <signal.h>

#include <chrono>
#include <fstream>
#include <thread>
#include <string>

#include <gtest/gtest.h>

#include "twofold/manager/broker_client.h"

namespace twofold::manager {
namespace {

using namespace std::chrono_literals;

BrokerOptions fake_options() {
    BrokerOptions o;
    o.program = TWOFOLD_FAKE_BROKER;
    o.uri = "test:///default";
    o.reply_timeout = 500ms;
    o.backoff_min = 0ms;
    o.backoff_max = 0ms;
    return o;
}

std::string failure_of(BrokerClient& client, const std::string& name) {
    try {
        (void)client.find(name);
    } catch (const LibvirtError& e) {
        return e.what();
    }
    return "no error";
}

class HostileBroker : public ::testing::TestWithParam<std::pair<const char*, const char*>> {};

TEST_P(HostileBroker, BadReplyIsAClearErrorAndTheNextCallGetsANewBroker) {
    const auto [name, expected] = GetParam();
    BrokerClient client(fake_options());
    ASSERT_EQ(client.find("running")->id, 7);
    const pid_t first = client.status().pid;
    ASSERT_GT(first, 0);

    const std::string error = failure_of(client, name);
    EXPECT_NE(error.find(expected), std::string::npos) << error;
    EXPECT_EQ(client.status().pid, -1) << "the misbehaving broker is gone";
    EXPECT_EQ(::kill(first, 0), -1) << "killed and reaped, not left running";

    EXPECT_FALSE(client.find("missing").has_value()) << "usable again";
    EXPECT_NE(client.status().pid, first);
    EXPECT_EQ(client.status().restarts, 1U);
    EXPECT_FALSE(client.status().last_error.empty());
}

INSTANTIATE_TEST_SUITE_P(
    Replies, HostileBroker,
    ::testing::Values(std::pair{"garbage", "not a JSON object"}, std::pair{"wrong-id", "does not match request"},
                      std::pair{"oversize", "exceeds 1048576 bytes"}, std::pair{"eof", "in the middle of a reply"},
                      std::pair{"hang", "no reply within 500 ms"}, std::pair{"two-lines", "more than one reply line"},
                      std::pair{"bad-state", "unknown domain state"}, std::pair{"bad-domid", "out of range"},
                      std::pair{"other-name", "answered for another domain"}),
    [](const auto& param_info) {
        std::string n = param_info.param.first;
        for (auto& c : n) {
            c = c == '-' ? '_' : c;
        }
        return n;
    });

TEST(BrokerClientRespawn, FailedBrokerIsNotRestartedBeforeItsBackoff) {
    auto options = fake_options();
    options.backoff_min = std::chrono::hours(1);
    options.backoff_max = std::chrono::hours(1);
    BrokerClient client(options);
    EXPECT_NE(failure_of(client, "garbage").find("not a JSON object"), std::string::npos);
    const std::string second = failure_of(client, "running");
    EXPECT_NE(second.find("not restarted for another"), std::string::npos) << second;
    EXPECT_EQ(client.status().pid, -1) << "no new broker inside the backoff";
    EXPECT_EQ(client.status().restarts, 0U);
}

TEST(BrokerClientRespawn, BrokerThatDiedWhileIdleIsReplacedOnTheNextCall) {
    BrokerClient client(fake_options());
    ASSERT_TRUE(client.find("running").has_value());
    const pid_t first = client.status().pid;
    ASSERT_EQ(::kill(first, SIGKILL), 0);
    // Give the kernel a moment to turn it into a zombie the client can reap.
    for (int i = 0; i < 100 && ::kill(first, 0) == 0; ++i) {
        std::this_thread::sleep_for(10ms);
        if (std::ifstream("/proc/" + std::to_string(first) + "/stat").good()) {
            std::string stat;
            std::getline(std::ifstream("/proc/" + std::to_string(first) + "/stat"), stat);
            if (stat.find(") Z ") != std::string::npos) {
                break;
            }
        }
    }
    EXPECT_EQ(client.find("running")->id, 7);
    EXPECT_NE(client.status().pid, first);
    EXPECT_EQ(client.status().restarts, 1U);
}

TEST(BrokerClientRespawn, MissingBrokerProgramIsAClearError) {
    auto options = fake_options();
    options.program = "/nonexistent/twofold-libvirt-broker";
    BrokerClient client(options);
    const std::string error = failure_of(client, "running");
    EXPECT_NE(error.find("cannot start the libvirt broker /nonexistent/twofold-libvirt-broker"), std::string::npos) << error;
}

} // namespace
} // namespace twofold::manager
