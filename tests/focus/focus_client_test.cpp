// The backends' end of the focus link over a real socketpair, the manager played by the test:
// hello first, each order applied by the handler and only then answered, audit events in
// order, EOF ending the link, a stalled manager bounded, and bad manager lines refused with
// a logged reason while the link keeps serving.
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <functional>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>

#include "twofold/focus/focus_client.h"

namespace twofold::focus {
namespace {

using ::testing::HasSubstr;

class FocusClientTest : public ::testing::Test {
protected:
    boost::asio::io_context io;
    xen::UniqueFd manager;
    std::ostringstream log_text;
    std::vector<Focus> applied;
    std::vector<std::string> closed_because;
    // What the handler answers; the test may change it. Runs inside the client's callback.
    std::function<std::optional<std::string>(const Focus&)> apply = [](const Focus&) { return std::nullopt; };
    std::unique_ptr<FocusClient> client;
    AuditLimits limits = AuditLimits::unlimited(); // the link itself; budgets have their own test

    void SetUp() override { make_client(); }
    void make_client() {
        int fds[2];
        ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
        manager = xen::UniqueFd(fds[0]);
        ASSERT_EQ(::fcntl(manager.get(), F_SETFL, O_NONBLOCK), 0);
        auto log = std::make_shared<spdlog::logger>("focus-test", std::make_shared<spdlog::sinks::ostream_sink_st>(log_text));
        client = std::make_unique<FocusClient>(
            io, xen::UniqueFd(fds[1]), Hello{"modem", {Holder::ModemAudio}},
            [this](const Focus& order) {
                applied.push_back(order);
                return apply(order);
            },
            [this](const std::string& why) { closed_because.push_back(why); }, log, limits);
    }

    void say(const std::string& text) {
        ASSERT_EQ(::write(manager.get(), text.data(), text.size()), static_cast<ssize_t>(text.size()));
    }
    void order(const Focus& focus) { say(format(ToBackend{focus}) + "\n"); }

    // Runs the client's loop, reading what it sent, until `done` holds or 5 s pass.
    bool run_until(const std::function<bool()>& done) {
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
        while (!done()) {
            if (std::chrono::steady_clock::now() >= deadline) return false;
            io.run_for(std::chrono::milliseconds(2));
            io.restart();
            drain();
        }
        return true;
    }
    // Reads whatever the manager's end has; false once it reads EOF.
    bool drain() {
        char buffer[4096];
        for (;;) {
            const ssize_t n = ::read(manager.get(), buffer, sizeof buffer);
            if (n == 0) return false;
            if (n < 0) return true;
            received.append(buffer, static_cast<std::size_t>(n));
        }
    }
    // The next `count` lines the client sent, parsed as the manager parses them.
    std::vector<ToManager> next(std::size_t count) {
        std::vector<ToManager> out;
        run_until([&] {
            for (auto newline = received.find('\n'); newline != std::string::npos && out.size() < count;
                 newline = received.find('\n')) {
                auto parsed = parse_to_manager(std::string_view(received).substr(0, newline));
                received.erase(0, newline + 1);
                if (const auto* error = std::get_if<ParseError>(&parsed)) {
                    ADD_FAILURE() << "the manager would refuse: " << error->message;
                    continue;
                }
                out.push_back(std::get<ToManager>(std::move(parsed)));
            }
            return out.size() >= count;
        });
        return out;
    }
    ToManager next_one() {
        auto lines = next(1);
        if (lines.empty()) throw std::runtime_error("no line from the client");
        return lines.front();
    }
    void start_and_take_hello() {
        client->start();
        ASSERT_TRUE(std::holds_alternative<Hello>(next_one()));
    }

    std::string received;
};

TEST_F(FocusClientTest, HelloIsTheFirstLineWithTheBackendNameAndWhatItHolds) {
    client->start();
    const auto message = next_one();
    ASSERT_TRUE(std::holds_alternative<Hello>(message));
    EXPECT_EQ(std::get<Hello>(message).backend, "modem");
    EXPECT_EQ(std::get<Hello>(message).holds, std::vector<Holder>{Holder::ModemAudio});
}

TEST_F(FocusClientTest, AuditEventSentBeforeStartFollowsTheHello) {
    client->send(AuditEvent{"modem.ready", {{"personas", 2}}});
    client->start();
    const auto lines = next(2);
    ASSERT_EQ(lines.size(), 2U);
    EXPECT_TRUE(std::holds_alternative<Hello>(lines[0]));
    ASSERT_TRUE(std::holds_alternative<AuditEvent>(lines[1]));
    EXPECT_EQ(std::get<AuditEvent>(lines[1]).event, "modem.ready");
}

TEST_F(FocusClientTest, FocusIsAckedOnlyAfterTheHandlerApplied) {
    start_and_take_hello();
    std::string unread_while_applying = "not checked";
    apply = [&](const Focus&) -> std::optional<std::string> {
        // Asio starts a write at once (speculatively): an early answer would be on the socket.
        char buffer[256];
        const ssize_t n = ::recv(manager.get(), buffer, sizeof buffer, MSG_PEEK | MSG_DONTWAIT);
        unread_while_applying.assign(buffer, n > 0 ? static_cast<std::size_t>(n) : 0U);
        return std::nullopt;
    };
    order(Focus{"secure", 7});
    const auto reply = next_one();
    ASSERT_TRUE(std::holds_alternative<Ack>(reply));
    EXPECT_EQ(std::get<Ack>(reply).epoch, 7U);
    ASSERT_EQ(applied.size(), 1U);
    EXPECT_EQ(applied[0].persona, "secure");
    EXPECT_EQ(unread_while_applying, "");
}

TEST_F(FocusClientTest, HandlersReasonIsAnsweredAsRefuseForThatEpoch) {
    start_and_take_hello();
    apply = [](const Focus& focus) -> std::optional<std::string> { return "persona " + focus.persona.value_or("nobody") + " is not configured"; };
    order(Focus{"banking", 8});
    const auto reply = next_one();
    ASSERT_TRUE(std::holds_alternative<Refuse>(reply));
    EXPECT_EQ(std::get<Refuse>(reply).epoch, 8U);
    EXPECT_EQ(std::get<Refuse>(reply).reason, "persona banking is not configured");
}

TEST_F(FocusClientTest, OverlongBinaryRefusalReasonStillReachesTheManager) {
    start_and_take_hello();
    // Invalid UTF-8 from a guest would widen in JSON and push the reason past the link's bound.
    apply = [](const Focus&) -> std::optional<std::string> { return std::string(3 * kMaxReasonBytes, '\xff'); };
    order(Focus{"secure", 9});
    const auto reply = next_one();
    ASSERT_TRUE(std::holds_alternative<Refuse>(reply));
    EXPECT_EQ(std::get<Refuse>(reply).reason, std::string(kMaxReasonBytes, '?'));
}

TEST_F(FocusClientTest, AuditEventIsSentWithItsFields) {
    start_and_take_hello();
    client->send(AuditEvent{"modem.dial", {{"persona", "secure"}, {"allowed", true}}});
    const auto message = next_one();
    ASSERT_TRUE(std::holds_alternative<AuditEvent>(message));
    const auto& event = std::get<AuditEvent>(message);
    EXPECT_EQ(event.event, "modem.dial");
    EXPECT_EQ(event.fields.at("persona"), "secure");
    EXPECT_EQ(event.fields.at("allowed"), true);
}

TEST_F(FocusClientTest, AnswerGoesAheadOfAuditEventsSentWhileApplying) {
    start_and_take_hello();
    apply = [&](const Focus& focus) -> std::optional<std::string> {
        client->send(AuditEvent{"modem.switch", {{"persona", focus.persona.value_or("nobody")}}});
        return std::nullopt;
    };
    order(Focus{"personal", 3});
    const auto lines = next(2);
    ASSERT_EQ(lines.size(), 2U);
    ASSERT_TRUE(std::holds_alternative<Ack>(lines[0]));
    EXPECT_EQ(std::get<Ack>(lines[0]).epoch, 3U);
    ASSERT_TRUE(std::holds_alternative<AuditEvent>(lines[1]));
    EXPECT_EQ(std::get<AuditEvent>(lines[1]).event, "modem.switch");
}

TEST_F(FocusClientTest, ManagerClosingItsEndCallsOnClosedOnce) {
    start_and_take_hello();
    manager.reset();
    ASSERT_TRUE(run_until([&] { return !closed_because.empty(); }));
    EXPECT_THAT(closed_because[0], HasSubstr("closed the focus link"));
    EXPECT_FALSE(client->open());
    client->send(AuditEvent{"modem.late", {}}); // ignored, not a second close
    io.poll();
    EXPECT_EQ(closed_because.size(), 1U);
}

// One persona's flood of one kind: its burst goes up, the rest arrives as one counted summary;
// the other persona's events of the same kind are all sent.
TEST_F(FocusClientTest, AuditFloodOfOnePersonaIsSummarisedAndTheOtherPersonasEventsPass) {
    limits = AuditLimits{};
    limits.burst = 5;
    limits.refill = std::chrono::hours(1);
    limits.summary_every = std::chrono::milliseconds(10);
    make_client();
    start_and_take_hello();
    for (int i = 0; i < 100; ++i) client->send(AuditEvent{"modem.refuse", {{"persona", "personal"}, {"n", i}}});
    for (int i = 0; i < 3; ++i) client->send(AuditEvent{"modem.refuse", {{"persona", "secure"}, {"n", i}}});
    const auto lines = next(5 + 3 + 1);
    ASSERT_EQ(lines.size(), 9U);
    int personal = 0, secure = 0;
    const AuditEvent* summary = nullptr;
    for (const auto& line : lines) {
        ASSERT_TRUE(std::holds_alternative<AuditEvent>(line));
        const auto& e = std::get<AuditEvent>(line);
        if (e.event == "modem.audit-suppressed") {
            summary = &e;
        } else {
            (e.fields.at("persona") == "personal" ? personal : secure) += 1;
        }
    }
    EXPECT_EQ(personal, 5);
    EXPECT_EQ(secure, 3);
    ASSERT_NE(summary, nullptr);
    EXPECT_EQ(summary->fields.at("persona"), "personal");
    EXPECT_EQ(summary->fields.at("kind"), "modem.refuse");
    EXPECT_EQ(summary->fields.at("suppressed"), 95);
    EXPECT_EQ(client->audit_suppressed(), 95U);
}

TEST_F(FocusClientTest, ManagerThatStopsReadingClosesTheLinkAtTheQueueBound) {
    client->start();
    std::size_t most_queued = 0;
    std::size_t sent = 0;
    const std::string filler(200, 'x');
    // The manager never reads: the socket buffer fills, then the client's queue.
    while (closed_because.empty() && sent < 100000) {
        client->send(AuditEvent{"modem.filler", {{"n", sent}, {"text", filler}}});
        ++sent;
        most_queued = std::max(most_queued, client->queued_bytes());
        if (sent % 64 == 0) {
            io.poll();
            io.restart();
        }
    }
    ASSERT_EQ(closed_because.size(), 1U);
    EXPECT_THAT(closed_because[0], HasSubstr("stopped reading"));
    EXPECT_LE(most_queued, FocusClient::kMaxQueuedBytes);
    EXPECT_GT(most_queued, FocusClient::kMaxQueuedBytes / 2);
    // Treated as gone: the manager's end reads what was on the socket, then EOF.
    EXPECT_TRUE(run_until([&] { return !drain(); }));
}

TEST_F(FocusClientTest, MalformedManagerLinesAreLoggedAndTheNextOrderServed) {
    start_and_take_hello();
    say("{not json\n");
    say("{\"type\":\"focus\",\"persona\":\"Secure!\",\"epoch\":1}\n");
    say("{\"type\":\"focus\",\"persona\":\"secure\",\"epoch\":-1}\n");
    say("{\"type\":\"shutdown\"}\n");
    order(Focus{"secure", 4});
    const auto reply = next_one();
    ASSERT_TRUE(std::holds_alternative<Ack>(reply));
    EXPECT_EQ(std::get<Ack>(reply).epoch, 4U);
    ASSERT_EQ(applied.size(), 1U);
    EXPECT_TRUE(client->open());
    const std::string log = log_text.str();
    EXPECT_THAT(log, HasSubstr("refused a line from the manager: not valid JSON"));
    EXPECT_THAT(log, HasSubstr("'persona' is not a valid name"));
    EXPECT_THAT(log, HasSubstr("'epoch' must be a non-negative integer"));
    EXPECT_THAT(log, HasSubstr("unknown message type 'shutdown'"));
}

TEST_F(FocusClientTest, OverlongManagerLineIsDroppedAndTheLinkStaysUsable) {
    start_and_take_hello();
    say(std::string(kMaxLineBytes + 100, 'a') + "\n");
    order(Focus{"secure", 5});
    const auto reply = next_one();
    ASSERT_TRUE(std::holds_alternative<Ack>(reply));
    EXPECT_EQ(std::get<Ack>(reply).epoch, 5U);
    EXPECT_TRUE(applied.size() == 1U && closed_because.empty());
    EXPECT_THAT(log_text.str(), HasSubstr("dropped an over-long line"));
}

TEST_F(FocusClientTest, DestroyingTheClientMidWriteClosesItsDescriptorOnce) {
    const int small = 4096;
    ASSERT_EQ(::setsockopt(manager.get(), SOL_SOCKET, SO_RCVBUF, &small, sizeof small), 0);
    client->start();
    const std::string filler(200, 'y');
    // Until the socket is full and a write waits for the manager to read.
    for (int i = 0; i < 4000 && client->queued_bytes() < 16 * 1024; ++i) {
        client->send(AuditEvent{"modem.filler", {{"text", filler}}});
        io.poll();
        io.restart();
    }
    ASSERT_TRUE(client->open());
    ASSERT_GE(client->queued_bytes(), 16U * 1024U);
    client.reset();
    io.restart();
    io.poll(); // the cancelled write's handler runs after the client is gone: it must do nothing
    EXPECT_TRUE(run_until([&] { return !drain(); })); // the backend's end was closed
    EXPECT_TRUE(closed_because.empty());
}

} // namespace
} // namespace twofold::focus
