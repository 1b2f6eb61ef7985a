#include "twofold/manager/control_server.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <thread>

#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>

namespace twofold::manager::control {
namespace {

namespace asio = boost::asio;

class RecordingHandler : public RequestHandler {
public:
    void handle(const Request& request, const PeerCredentials& peer, std::function<void(Reply)> done) override {
        last_uid = peer.uid;
        ++calls;
        if (std::holds_alternative<StatusRequest>(request.command)) {
            done(Reply{true, {{"foreground", "personal"}}, {}, {}});
        } else {
            done(Reply{false, {}, "unknown-persona", "no such persona"});
        }
    }
    int calls = 0;
    uid_t last_uid = 12345;
};

class ControlServerTest : public ::testing::Test {
protected:
    void SetUp() override {
        path_ = std::filesystem::temp_directory_path() / ("twofold-control-test-" + std::to_string(::getpid()) + ".sock");
        server_ = std::make_unique<ControlServer>(io_, path_, AccessRule{}, handler_);
        thread_ = std::thread([this] { io_.run(); });
    }
    void TearDown() override {
        asio::post(io_, [this] { server_.reset(); });
        work_.reset();
        io_.stop();
        thread_.join();
    }

    // Sends one line and reads one reply line, as the CLI does.
    nlohmann::json round_trip(asio::local::stream_protocol::socket& s, const std::string& line) {
        asio::write(s, asio::buffer(line));
        asio::streambuf buf;
        const auto n = asio::read_until(s, buf, '\n');
        std::string reply(asio::buffers_begin(buf.data()), asio::buffers_begin(buf.data()) + static_cast<std::ptrdiff_t>(n));
        return nlohmann::json::parse(reply);
    }

    asio::local::stream_protocol::socket connect() {
        asio::local::stream_protocol::socket s(client_io_);
        s.connect(asio::local::stream_protocol::endpoint(path_.string()));
        return s;
    }

    asio::io_context io_;
    asio::executor_work_guard<asio::io_context::executor_type> work_ = asio::make_work_guard(io_);
    asio::io_context client_io_;
    RecordingHandler handler_;
    std::filesystem::path path_;
    std::unique_ptr<ControlServer> server_;
    std::thread thread_;
};

TEST_F(ControlServerTest, AnswersStatusWithHandlerResult) {
    auto s = connect();
    const auto reply = round_trip(s, R"({"version":1,"id":4,"command":"status"})" "\n");
    EXPECT_TRUE(reply["ok"].get<bool>());
    EXPECT_EQ(reply["id"], 4);
    EXPECT_EQ(reply["result"]["foreground"], "personal");
    EXPECT_EQ(handler_.last_uid, ::getuid());
}

TEST_F(ControlServerTest, MalformedRequestGetsErrorAndConnectionStaysUsable) {
    auto s = connect();
    const auto bad = round_trip(s, "garbage\n");
    EXPECT_FALSE(bad["ok"].get<bool>());
    EXPECT_EQ(bad["error"]["code"], "bad-json");
    const auto good = round_trip(s, R"({"version":1,"id":5,"command":"status"})" "\n");
    EXPECT_TRUE(good["ok"].get<bool>());
    EXPECT_EQ(handler_.calls, 1);
}

TEST_F(ControlServerTest, HandlerErrorIsReportedWithItsCode) {
    auto s = connect();
    const auto reply = round_trip(s, R"({"version":1,"id":6,"command":"switch","args":{"persona":"nobody"}})" "\n");
    EXPECT_FALSE(reply["ok"].get<bool>());
    EXPECT_EQ(reply["error"]["code"], "unknown-persona");
    EXPECT_EQ(reply["id"], 6);
}

TEST_F(ControlServerTest, OverlongLineIsRefusedAndClosed) {
    auto s = connect();
    const std::string huge(kMaxRequestBytes + 10, 'x');
    const auto reply = round_trip(s, huge);
    EXPECT_EQ(reply["error"]["code"], "too-large");
    EXPECT_EQ(handler_.calls, 0);
}

TEST_F(ControlServerTest, SocketIsNotWorldAccessible) {
    struct stat st{};
    ASSERT_EQ(::stat(path_.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0007, 0u);
}

TEST(ControlAuthorization, RootIsAlwaysAllowed) { EXPECT_TRUE(is_authorized({1, 0, 0}, AccessRule{})); }

TEST(ControlAuthorization, NonRootWithoutGroupRuleIsRefused) {
    EXPECT_FALSE(is_authorized({1, 4242, 4242}, AccessRule{}));
}

TEST(ControlAuthorization, PrimaryGroupMemberIsAllowed) {
    EXPECT_TRUE(is_authorized({1, 4242, 777}, AccessRule{777}));
    EXPECT_FALSE(is_authorized({1, 4242, 778}, AccessRule{777}));
}

} // namespace
} // namespace twofold::manager::control
