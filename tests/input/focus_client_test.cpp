// The backend end of the focus link over a real socketpair, the manager played by the test.
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <string>

#include <gtest/gtest.h>
#include <spdlog/sinks/null_sink.h>

#include "twofold/input/focus_client.h"

namespace twofold::input {
namespace {

class FocusClientTest : public ::testing::Test {
protected:
    boost::asio::io_context io;
    int manager = -1;
    std::vector<focus::Focus> orders;
    bool closed = false;
    std::unique_ptr<FocusClient> client;

    void SetUp() override {
        int fds[2];
        ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
        manager = fds[0];
        client = std::make_unique<FocusClient>(
            io, fds[1], focus::Hello{"input", {focus::Holder::Input}},
            [this](const focus::Focus& order) -> focus::ToManager {
                orders.push_back(order);
                if (order.persona == "secure") return focus::Ack{order.epoch};
                return focus::Refuse{order.epoch, "unknown"};
            },
            [this] { closed = true; },
            std::make_shared<spdlog::logger>("test", std::make_shared<spdlog::sinks::null_sink_mt>()));
        client->start();
    }
    void TearDown() override {
        if (manager >= 0) close(manager);
    }
    void say(const std::string& text) { ASSERT_EQ(write(manager, text.data(), text.size()), static_cast<ssize_t>(text.size())); }
    // Runs the loop until the manager side has `count` lines, and returns them.
    std::vector<std::string> lines(std::size_t count) {
        std::string got;
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
        while (std::count(got.begin(), got.end(), '\n') < static_cast<long>(count) && std::chrono::steady_clock::now() < deadline) {
            io.run_for(std::chrono::milliseconds(5));
            io.restart();
            char buffer[512];
            const ssize_t n = recv(manager, buffer, sizeof buffer, MSG_DONTWAIT);
            if (n > 0) got.append(buffer, static_cast<std::size_t>(n));
        }
        std::vector<std::string> out;
        std::size_t start = 0;
        for (std::size_t end; (end = got.find('\n', start)) != std::string::npos; start = end + 1) out.push_back(got.substr(start, end - start));
        return out;
    }
};

TEST_F(FocusClientTest, SaysHelloWithTheInputHolderFirst) {
    const auto got = lines(1);
    ASSERT_EQ(got.size(), 1U);
    const auto parsed = focus::parse_to_manager(got[0]);
    ASSERT_TRUE(std::holds_alternative<focus::ToManager>(parsed));
    const auto& hello = std::get<focus::Hello>(std::get<focus::ToManager>(parsed));
    EXPECT_EQ(hello.backend, "input");
    EXPECT_EQ(hello.holds, (std::vector<focus::Holder>{focus::Holder::Input}));
}

TEST_F(FocusClientTest, FocusOrderIsAnsweredWithTheHandlersAck) {
    say(focus::format(focus::ToBackend{focus::Focus{"secure", 7}}) + "\n");
    const auto got = lines(2);
    ASSERT_EQ(got.size(), 2U);
    EXPECT_EQ(got[1], focus::format(focus::ToManager{focus::Ack{7}}));
    ASSERT_EQ(orders.size(), 1U);
}

TEST_F(FocusClientTest, RefusalGoesBackAsRefuse) {
    say(focus::format(focus::ToBackend{focus::Focus{"other", 8}}) + "\n");
    const auto got = lines(2);
    ASSERT_EQ(got.size(), 2U);
    EXPECT_EQ(got[1], focus::format(focus::ToManager{focus::Refuse{8, "unknown"}}));
}

TEST_F(FocusClientTest, GarbageLineIsIgnoredAndTheNextOrderStillServed) {
    say("{not json\n");
    say(focus::format(focus::ToBackend{focus::Focus{"secure", 9}}) + "\n");
    const auto got = lines(2);
    ASSERT_EQ(got.size(), 2U);
    EXPECT_EQ(got[1], focus::format(focus::ToManager{focus::Ack{9}}));
    EXPECT_EQ(orders.size(), 1U);
}

TEST_F(FocusClientTest, ManagerClosingItsEndReportsClosed) {
    close(manager);
    manager = -1;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (!closed && std::chrono::steady_clock::now() < deadline) {
        io.run_for(std::chrono::milliseconds(5));
        io.restart();
    }
    EXPECT_TRUE(closed);
}

} // namespace
} // namespace twofold::input
