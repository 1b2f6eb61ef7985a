// Backend supervision end to end: the manager (libvirt's real test driver for the personas)
// starts fake backend processes from tests/manager/fake_backend.cpp over real socketpairs,
// and each test makes one of them misbehave in one way.
#include <gtest/gtest.h>

#include <libvirt/virterror.h>
#include <signal.h>
#include <unistd.h>

#include <fstream>
#include <future>
#include <mutex>
#include <sstream>
#include <thread>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>

#include "twofold/audit/sink.h"
#include "twofold/audit/verifier.h"
#include "twofold/focus/focus_protocol.h"
#include "twofold/loopback/hypervisor.h"
#include "twofold/manager/libvirt.h"
#include "twofold/manager/manager.h"
#include "twofold/policy/checker.h"

#ifndef TWOFOLD_FAKE_BACKEND
#error "TWOFOLD_FAKE_BACKEND must name the fake backend program"
#endif

namespace twofold::manager {
namespace {

namespace asio = boost::asio;
using nlohmann::json;
using namespace std::chrono_literals;

void quiet(void*, virErrorPtr) {}

std::string replace_all(std::string text, const std::string& from, const std::string& to) {
    for (auto pos = text.find(from); pos != std::string::npos; pos = text.find(from, pos + to.size())) {
        text.replace(pos, from.size(), to);
    }
    return text;
}

std::string read_file(const std::filesystem::path& path) {
    std::ifstream in(path);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

class BackendSupervisionTest : public ::testing::Test {
protected:
    void SetUp() override {
        virSetErrorFunc(nullptr, quiet);
        static int counter = 0;
        const std::string tag = "b" + std::to_string(::getpid() % 10000) + "x" + std::to_string(++counter);
        dir_ = std::filesystem::temp_directory_path() / ("twofold-backends-" + tag);
        std::filesystem::remove_all(dir_);
        std::filesystem::create_directories(dir_);
        personal_ = tag + "-personal";
        secure_ = tag + "-secure";
        std::string text = read_file(std::string(TWOFOLD_SOURCE_DIR) + "/policy/personas.toml");
        text = replace_all(text, "name = \"personal\"", "name = \"" + personal_ + "\"");
        text = replace_all(text, "name = \"secure\"", "name = \"" + secure_ + "\"");
        text = replace_all(text, "default_foreground = \"personal\"", "default_foreground = \"" + personal_ + "\"");
        text = replace_all(text, "to = \"secure\"", "to = \"" + secure_ + "\"");
        auto loaded = policy::load_and_check_policy(text, "personas.toml", policy::CheckOptions{false});
        ASSERT_TRUE(loaded.policy);
        policy_ = *loaded.policy;
        key_ = std::make_unique<audit::SigningKey>(audit::SigningKey::generate());
    }

    void TearDown() override {
        stop();
        std::filesystem::remove_all(dir_);
    }

    // A fake backend; `args` are fake_backend.cpp's flags. Its log is dir_/<name>.log.
    BackendConfig backend(const std::string& name, std::vector<std::string> args) {
        BackendConfig c;
        c.name = name;
        c.command = {TWOFOLD_FAKE_BACKEND, "--name", name, "--log", log_of(name).string()};
        c.command.insert(c.command.end(), args.begin(), args.end());
        c.user = "twofold-" + name;
        c.restart.max_attempts = 3;
        c.restart.window_seconds = 60;
        c.restart.first_delay = 20ms;
        c.restart.max_delay = 100ms;
        c.hello_timeout = 3000ms;
        return c;
    }
    std::filesystem::path log_of(const std::string& name) const { return dir_ / (name + ".log"); }

    void start_manager(std::vector<BackendConfig> backends) {
        auto writer = audit::Writer::open(std::make_unique<audit::PosixLogStore>(dir_ / "audit"),
                                          audit::SigningKey::from_pem(key_->private_pem()), audit::WriterConfig{});
        ManagerOptions o;
        o.libvirt_uri = "test:///default";
        o.flavor = DomainFlavor::test_driver();
        o.control_socket = dir_ / "control.sock";
        o.state_dir = dir_ / "state";
        o.use_hardware_key = false;
        o.supervise_every = std::chrono::hours(1);
        o.switch_timeout = switch_timeout_; // 2000 ms: a loaded CI machine; the hung-backend test waits for it twice
        o.backends = std::move(backends);
        o.backend_stop_grace = 300ms;
        // The secure volume is open, unless a test locks it (the PIN prompt's tests).
        o.block_device_present = [this](const std::string& node) { return !secure_locked_ || node.find(secure_) == std::string::npos; };
        o.shutdown_timeout = std::chrono::seconds(5);
        o.poweroff_command = "echo powered-off > " + (dir_ / "poweroff").string();
        io_ = std::make_unique<asio::io_context>();
        manager_ = std::make_unique<Manager>(*io_, policy_, o, std::make_unique<LibvirtConnection>(o.libvirt_uri), nullptr,
                                             std::move(writer));
        ASSERT_TRUE(manager_->start());
        thread_ = std::thread([this] { io_->run(); });
    }

    void stop() {
        if (!io_) {
            return;
        }
        if (!io_->stopped()) {
            std::promise<void> done;
            asio::post(*io_, [&] {
                manager_.reset(); // the manager lives and dies on its own thread
                done.set_value();
            });
            done.get_future().wait();
            io_->stop();
        }
        thread_.join();
        manager_.reset(); // after a `shutdown` the manager stopped its own loop
        io_.reset();
    }

    json call(const json& request) {
        asio::io_context client;
        asio::local::stream_protocol::socket s(client);
        s.connect(asio::local::stream_protocol::endpoint((dir_ / "control.sock").string()));
        asio::write(s, asio::buffer(request.dump() + "\n"));
        asio::streambuf buf;
        // The manager's SIGCHLD handler lives in this process: a blocking read may see EINTR.
        boost::system::error_code ec;
        std::size_t n = 0;
        do {
            n = asio::read_until(s, buf, '\n', ec);
        } while (ec == boost::asio::error::interrupted);
        if (ec) throw boost::system::system_error(ec);
        return json::parse(std::string(asio::buffers_begin(buf.data()), asio::buffers_begin(buf.data()) + static_cast<std::ptrdiff_t>(n)));
    }
    json status() { return call({{"version", 1}, {"id", 1}, {"command", "status"}})["result"]; }
    json switch_to(const std::string& persona) {
        return call({{"version", 1}, {"id", 2}, {"command", "switch"}, {"args", {{"persona", persona}}}});
    }
    json backend_status(const std::string& name) {
        const auto all = status();
        for (const auto& b : all["backends"]) {
            if (b["name"] == name) return b;
        }
        return nullptr;
    }
    // Polls the manager's status (over the control socket, as the CLI does) until `pred` holds.
    bool eventually(const std::function<bool()>& pred, std::chrono::milliseconds limit = 10s) {
        const auto deadline = std::chrono::steady_clock::now() + limit;
        while (std::chrono::steady_clock::now() < deadline) {
            if (pred()) return true;
            std::this_thread::sleep_for(20ms);
        }
        return pred();
    }
    bool running_with(const std::string& name, const std::string& holder) {
        const auto b = backend_status(name);
        return !b.is_null() && b["state"] == "running" && b["holds"].size() == 1 && b["holds"][0] == holder;
    }
    std::string audit_text() {
        std::string log;
        for (const auto& f : std::filesystem::directory_iterator(dir_ / "audit")) {
            log += read_file(f.path());
        }
        return log;
    }

    LibvirtConnection libvirtd_{"test:///default"};
    std::filesystem::path dir_;
    std::string personal_;
    std::string secure_;
    policy::Policy policy_;
    std::unique_ptr<audit::SigningKey> key_;
    std::unique_ptr<asio::io_context> io_;
    std::unique_ptr<Manager> manager_;
    std::thread thread_;
    bool secure_locked_ = false;
    std::chrono::milliseconds switch_timeout_ = 2000ms;
};

TEST_F(BackendSupervisionTest, SwitchCommitsOnlyAfterEveryBackendAcknowledged) {
    start_manager({backend("display", {"--holds", "display", "--ack-after-ms", "300"}),
                   backend("input", {"--holds", "input"})});
    ASSERT_TRUE(eventually([&] { return running_with("display", "display") && running_with("input", "input"); }));
    const auto began = std::chrono::steady_clock::now();
    const auto reply = switch_to(secure_);
    const auto took = std::chrono::steady_clock::now() - began;
    ASSERT_TRUE(reply["ok"].get<bool>()) << reply.dump();
    EXPECT_EQ(reply["result"]["foreground"], secure_);
    EXPECT_GE(took, 290ms) << "the reply waited for the slow display backend's ack";
    EXPECT_NE(read_file(log_of("display")).find("focus " + secure_), std::string::npos);
    EXPECT_NE(read_file(log_of("input")).find("focus " + secure_), std::string::npos);
}

// One line of a fake backend's log: "focus PERSONA EPOCH T", "ack EPOCH T", "refuse EPOCH T".
struct LogEntry {
    std::string backend;
    std::string verb;
    std::string persona; // focus lines only
    std::uint64_t epoch = 0;
    long long t_us = 0;
};

std::vector<LogEntry> entries_of(const std::filesystem::path& file, const std::string& backend) {
    std::vector<LogEntry> out;
    std::istringstream in(read_file(file));
    for (std::string line; std::getline(in, line);) {
        std::istringstream words(line);
        LogEntry e;
        e.backend = backend;
        words >> e.verb;
        if (e.verb == "focus") words >> e.persona;
        if (e.verb == "focus" || e.verb == "ack" || e.verb == "refuse") {
            words >> e.epoch >> e.t_us;
            out.push_back(e);
        }
    }
    return out;
}

const LogEntry* find_entry(const std::vector<LogEntry>& log, const std::string& verb, const std::string& persona,
                           std::uint64_t min_epoch = 0) {
    for (const auto& e : log) {
        if (e.verb == verb && (persona.empty() || e.persona == persona) && e.epoch >= min_epoch) return &e;
    }
    return nullptr;
}

// The order of a switch at the instant it happens, as three separate backend processes saw it
// (their logs share CLOCK_MONOTONIC): input is with nobody before the display is told, and is
// given the new persona only after the display confirmed presenting it.
TEST_F(BackendSupervisionTest, SwitchDetachesInputThenPresentsThenAttachesInTime) {
    start_manager({backend("display", {"--holds", "display", "--ack-after-ms", "200"}),
                   backend("input", {"--holds", "input", "--ack-after-ms", "50"}),
                   backend("modem", {"--holds", "modem-audio"})});
    ASSERT_TRUE(eventually([&] {
        return running_with("display", "display") && running_with("input", "input") && running_with("modem", "modem-audio");
    }));
    const auto reply = switch_to(secure_);
    ASSERT_TRUE(reply["ok"].get<bool>()) << reply.dump();
    const auto input = entries_of(log_of("input"), "input");
    const auto display = entries_of(log_of("display"), "display");
    const auto modem = entries_of(log_of("modem"), "modem");
    const auto* detach = find_entry(input, "focus", "nobody");
    ASSERT_NE(detach, nullptr) << read_file(log_of("input"));
    const auto* detached = find_entry(input, "ack", "", detach->epoch);
    const auto* present = find_entry(display, "focus", secure_);
    ASSERT_TRUE(detached != nullptr && present != nullptr) << read_file(log_of("display"));
    const auto* presented = find_entry(display, "ack", "", present->epoch);
    const auto* attach = find_entry(input, "focus", secure_);
    const auto* modem_attach = find_entry(modem, "focus", secure_);
    ASSERT_TRUE(presented != nullptr && attach != nullptr && modem_attach != nullptr) << read_file(log_of("input"));
    EXPECT_LT(detach->epoch, present->epoch);
    EXPECT_LT(present->epoch, attach->epoch);
    EXPECT_EQ(attach->epoch, modem_attach->epoch);
    EXPECT_GE(present->t_us, detached->t_us) << "the display was told before input had left personal";
    EXPECT_GE(attach->t_us, presented->t_us) << "input was given secure before the display presented it";
    EXPECT_GE(modem_attach->t_us, presented->t_us);
    EXPECT_GE(attach->t_us - detach->t_us, 240000) << "both slow acks were waited for";
    EXPECT_EQ(status()["input_parked"], false);
}

// The display refuses everything: the switch to secure and its rollback to personal. Input,
// already with nobody, stays with nobody; it is never given secure, nor personal while the
// display has not confirmed personal.
TEST_F(BackendSupervisionTest, DisplayConfirmingNothingLeavesInputWithNobody) {
    start_manager({backend("display", {"--holds", "display", "--refuse"}), backend("input", {"--holds", "input"})});
    ASSERT_TRUE(eventually([&] { return running_with("display", "display") && running_with("input", "input"); }));
    const auto before = entries_of(log_of("input"), "input").size(); // the registration order
    const auto reply = switch_to(secure_);
    EXPECT_FALSE(reply["ok"].get<bool>());
    EXPECT_EQ(reply["error"]["code"], "switch-not-done");
    const auto st = status();
    EXPECT_EQ(st["foreground"], personal_);
    EXPECT_EQ(st["input_parked"], true);
    const auto input = entries_of(log_of("input"), "input");
    ASSERT_GT(input.size(), before);
    for (std::size_t i = before; i < input.size(); ++i) {
        if (input[i].verb == "focus") {
            EXPECT_EQ(input[i].persona, "nobody") << read_file(log_of("input"));
        }
    }
    const auto audit = audit_text();
    EXPECT_NE(audit.find("display refused: fake backend refuses"), std::string::npos);
    EXPECT_NE(audit.find("\"input_parked\":true"), std::string::npos) << audit;
}

// The display refuses secure (so it never stopped showing personal): input comes back to
// personal only after that refusal, with no present in between, and never reached secure.
TEST_F(BackendSupervisionTest, RefusingDisplayRollsTheSwitchBackEverywhere) {
    start_manager({backend("display", {"--holds", "display", "--refuse-persona", secure_}),
                   backend("input", {"--holds", "input"})});
    ASSERT_TRUE(eventually([&] { return running_with("display", "display") && running_with("input", "input"); }));
    const auto reply = switch_to(secure_);
    EXPECT_FALSE(reply["ok"].get<bool>());
    EXPECT_EQ(reply["error"]["code"], "switch-not-done");
    const auto st = status();
    EXPECT_EQ(st["foreground"], personal_);
    EXPECT_EQ(st["input_parked"], false);
    const auto input = entries_of(log_of("input"), "input");
    const auto display = entries_of(log_of("display"), "display");
    EXPECT_EQ(find_entry(input, "focus", secure_), nullptr) << read_file(log_of("input"));
    const auto* detach = find_entry(input, "focus", "nobody");
    ASSERT_NE(detach, nullptr);
    const auto* refused = find_entry(display, "refuse", "", detach->epoch);
    ASSERT_NE(refused, nullptr) << read_file(log_of("display"));
    EXPECT_EQ(find_entry(display, "focus", personal_, detach->epoch), nullptr) << "an unneeded present: " << read_file(log_of("display"));
    const auto* back = find_entry(input, "focus", personal_, detach->epoch);
    ASSERT_NE(back, nullptr) << read_file(log_of("input"));
    EXPECT_GE(back->t_us, refused->t_us) << "input returned to personal before the display's answer";
    EXPECT_NE(audit_text().find("display refused: fake backend refuses"), std::string::npos);
}

TEST_F(BackendSupervisionTest, HungBackendTimesTheSwitchOut) {
    start_manager({backend("display", {"--holds", "display", "--never-answer"})});
    ASSERT_TRUE(eventually([&] { return running_with("display", "display"); }));
    const auto reply = switch_to(secure_);
    EXPECT_FALSE(reply["ok"].get<bool>()) << reply.dump();
    EXPECT_EQ(status()["foreground"], personal_);
    EXPECT_NE(audit_text().find("timed out waiting for display"), std::string::npos);
}

// The manager's own loop blocked (as a persona's start blocks it on the board, run
// test-20261207-131750) for longer than the switch timeout while the display's answer comes:
// the timeout does not count the stall, so the switch lands instead of rolling back.
TEST_F(BackendSupervisionTest, TheManagersOwnStallDoesNotTimeTheSwitchOut) {
    switch_timeout_ = 400ms;
    start_manager({backend("display", {"--holds", "display", "--ack-after-ms", "900"})});
    ASSERT_TRUE(eventually([&] { return running_with("display", "display"); }));
    auto reply = std::async(std::launch::async, [&] { return switch_to(secure_); });
    std::this_thread::sleep_for(100ms); // the order is out
    asio::post(*io_, [] { std::this_thread::sleep_for(1200ms); });
    const auto answer = reply.get();
    EXPECT_TRUE(answer["ok"].get<bool>()) << answer.dump();
    EXPECT_EQ(status()["foreground"], secure_);
}

// The control: the same display, with nothing blocking the loop, is too slow for 400 ms.
TEST_F(BackendSupervisionTest, WithoutAStallTheSlowDisplayTimesOut) {
    switch_timeout_ = 400ms;
    start_manager({backend("display", {"--holds", "display", "--ack-after-ms", "900"})});
    ASSERT_TRUE(eventually([&] { return running_with("display", "display"); }));
    const auto answer = switch_to(secure_);
    EXPECT_FALSE(answer["ok"].get<bool>()) << answer.dump();
    EXPECT_NE(audit_text().find("timed out waiting for display"), std::string::npos);
}

TEST_F(BackendSupervisionTest, CrashedBackendIsRestartedAndServesTheNextSwitch) {
    start_manager({backend("display", {"--holds", "display", "--crash-after-hello", "--crash-once", (dir_ / "crashed").string()})});
    ASSERT_TRUE(eventually([&] {
        const auto b = backend_status("display");
        return b["restarts"] == 1 && b["state"] == "running" && b["holds"].size() == 1;
    })) << backend_status("display").dump();
    const auto reply = switch_to(secure_);
    ASSERT_TRUE(reply["ok"].get<bool>()) << reply.dump();
    const auto log = read_file(log_of("display"));
    std::size_t starts = 0;
    for (auto pos = log.find("start "); pos != std::string::npos; pos = log.find("start ", pos + 1)) ++starts;
    EXPECT_EQ(starts, 2u) << log;
    EXPECT_NE(log.find("focus " + secure_), std::string::npos) << "the restarted backend got the order: " << log;
    const auto audit = audit_text();
    EXPECT_NE(audit.find("backend.exit"), std::string::npos);
    EXPECT_NE(audit.find("SIGABRT"), std::string::npos);
    EXPECT_NE(audit.find("backend.restart"), std::string::npos);
}

TEST_F(BackendSupervisionTest, BackendThatKeepsCrashingIsGivenUpAndNeverBlocksASwitch) {
    start_manager({backend("display", {"--holds", "display", "--crash-after-hello"})});
    ASSERT_TRUE(eventually([&] { return backend_status("display")["state"] == "failed"; })) << backend_status("display").dump();
    EXPECT_TRUE(backend_status("display")["holds"].empty());
    const auto reply = switch_to(secure_);
    ASSERT_TRUE(reply["ok"].get<bool>()) << reply.dump();
    EXPECT_NE(audit_text().find("backend.restart-abandoned"), std::string::npos);
}

// Each incarnation's focus link is owned by one UniqueFd that the Asio socket only borrows: after
// four crashed incarnations and the manager's end, no descriptor of theirs is left open.
TEST_F(BackendSupervisionTest, CrashedIncarnationsLeaveNoDescriptorOpen) {
    const auto open_fds = [] {
        return std::distance(std::filesystem::directory_iterator("/proc/self/fd"), std::filesystem::directory_iterator{});
    };
    const auto before = open_fds();
    start_manager({backend("display", {"--holds", "display", "--crash-after-hello"})});
    ASSERT_TRUE(eventually([&] { return backend_status("display")["state"] == "failed"; })) << backend_status("display").dump();
    EXPECT_EQ(backend_status("display")["restarts"], 3);
    stop();
    EXPECT_EQ(open_fds(), before);
}

TEST_F(BackendSupervisionTest, BackendThatNeverSaysHelloIsKilledAndAudited) {
    auto silent = backend("display", {"--no-hello"});
    silent.hello_timeout = 200ms;
    start_manager({silent});
    ASSERT_TRUE(eventually([&] { return backend_status("display")["restarts"].get<int>() >= 1; }));
    EXPECT_NE(audit_text().find("no hello within 200 ms"), std::string::npos);
}

TEST_F(BackendSupervisionTest, AuditEventsOnlyUnderTheBackendsOwnName) {
    start_manager({backend("display", {"--holds", "display", "--audit", "display.frame-refused", "--audit", "modem.dial"})});
    ASSERT_TRUE(eventually([&] {
        const auto log = audit_text();
        return log.find("display.frame-refused") != std::string::npos && log.find("backend.protocol-error") != std::string::npos;
    })) << audit_text();
    const auto log = audit_text();
    EXPECT_EQ(log.find("\"modem.dial\""), std::string::npos) << "a foreign event is never recorded under its own name";
    EXPECT_NE(log.find("outside its namespace"), std::string::npos);
}

TEST_F(BackendSupervisionTest, SecondBackendClaimingAHeldHolderIsKilled) {
    auto first = backend("display", {"--holds", "display"});
    auto second = backend("shadow", {"--holds", "display"});
    first.restart.max_attempts = 1;
    second.restart.max_attempts = 1;
    start_manager({first, second});
    // Whichever said hello first keeps the display; the other is killed at each attempt.
    ASSERT_TRUE(eventually([&] {
        const auto a = backend_status("display");
        const auto b = backend_status("shadow");
        return (a["state"] == "running" && b["state"] == "failed") || (a["state"] == "failed" && b["state"] == "running");
    })) << status().dump();
    EXPECT_NE(audit_text().find("holder already held"), std::string::npos);
    EXPECT_EQ(backend_status("display")["holds"].size() + backend_status("shadow")["holds"].size(), 1u);
}

TEST_F(BackendSupervisionTest, BackendAnnouncingAnotherNameIsKilled) {
    auto liar = backend("display", {"--holds", "display"});
    liar.command.push_back("--name");
    liar.command.push_back("input"); // the last --name wins in the fake
    start_manager({liar});
    ASSERT_TRUE(eventually([&] { return audit_text().find("wrong backend name") != std::string::npos; }));
}

TEST_F(BackendSupervisionTest, StatusShowsEachBackendWithPidStateRestartsAndHolds) {
    start_manager({backend("display", {"--holds", "display"}), backend("modem", {"--holds", "modem-audio"})});
    ASSERT_TRUE(eventually([&] { return running_with("display", "display") && running_with("modem", "modem-audio"); }))
        << status().dump();
    const auto b = backend_status("modem");
    EXPECT_GT(b["pid"].get<int>(), 1);
    EXPECT_EQ(b["restarts"], 0);
    EXPECT_EQ(::kill(b["pid"].get<pid_t>(), 0), 0) << "the pid shown is a live process";
}

TEST_F(BackendSupervisionTest, StoppingTheManagerEndsEveryBackendEvenOneIgnoringSigterm) {
    start_manager({backend("display", {"--holds", "display", "--linger"}), backend("input", {"--holds", "input"})});
    ASSERT_TRUE(eventually([&] { return running_with("display", "display") && running_with("input", "input"); }));
    const auto lingering = backend_status("display")["pid"].get<pid_t>();
    const auto polite = backend_status("input")["pid"].get<pid_t>();
    stop();
    EXPECT_NE(::kill(lingering, 0), 0) << "SIGKILLed after the grace period and reaped";
    EXPECT_NE(::kill(polite, 0), 0);
    EXPECT_NE(audit_text().find("SIGKILL"), std::string::npos);
}

TEST_F(BackendSupervisionTest, ShutdownStopsPersonasAndBackendsSealsTheLogThenPowersOff) {
    start_manager({backend("display", {"--holds", "display"})});
    ASSERT_TRUE(eventually([&] { return running_with("display", "display"); }));
    const auto pid = backend_status("display")["pid"].get<pid_t>();
    const auto reply = call({{"version", 1}, {"id", 3}, {"command", "shutdown"}});
    ASSERT_TRUE(reply["ok"].get<bool>()) << reply.dump();
    EXPECT_TRUE(reply["result"]["audit_sealed"].get<bool>());
    thread_.join(); // the manager ends its own loop after the power-off command
    thread_ = std::thread([] {});
    EXPECT_EQ(read_file(dir_ / "poweroff"), "powered-off\n");
    EXPECT_EQ(libvirtd_.lookup(personal_)->info().state, DomainState::ShutOff);
    EXPECT_EQ(libvirtd_.lookup(secure_)->info().state, DomainState::ShutOff);
    EXPECT_NE(::kill(pid, 0), 0);
    manager_.reset();
    audit::VerifyOptions opts;
    opts.public_key = audit::VerifyKey::from_pem(key_->public_pem());
    const auto report = audit::verify({dir_ / "audit"}, opts);
    EXPECT_TRUE(report.intact());
    EXPECT_EQ(report.unsealed_records, 0u);
    const auto log = audit_text();
    EXPECT_NE(log.find("control.shutdown"), std::string::npos);
    EXPECT_EQ(log.find("manager.stop"), log.rfind("manager.stop")) << "one manager.stop, written before the seal";
}

} // namespace
} // namespace twofold::manager

namespace twofold::manager {
namespace {

// A backend that floods the manager with one persona's events (the backend's own budget
// bypassed: fake_backend writes the lines itself) costs only that persona's budget: the other
// persona's events sent after the flood are all recorded, and the flood's excess is counted
// under its persona, nothing lost silently (recorded + dropped = sent).
TEST_F(BackendSupervisionTest, AuditFloodOfOnePersonaLeavesTheOthersEventsAndIsCounted) {
    start_manager({backend("display", {"--holds", "display", "--audit-flood", "2000:" + personal_ + ":display.guest-rejected",
                                       "--audit-flood", "5:" + secure_ + ":display.guest-rejected"})});
    ASSERT_TRUE(eventually([&] { return running_with("display", "display"); }));
    const auto count = [](const std::string& log, const std::string& persona) {
        std::size_t n = 0;
        std::istringstream in(log);
        for (std::string line; std::getline(in, line);) {
            if (line.find("\"kind\":\"display.guest-rejected\"") != std::string::npos &&
                line.find("\"persona\":\"" + persona + "\"") != std::string::npos) {
                ++n;
            }
        }
        return n;
    };
    ASSERT_TRUE(eventually([&] { return count(audit_text(), secure_) == 5; })) << "secure: " << count(audit_text(), secure_);
    stop(); // the backend's exit reports its open windows
    const auto log = audit_text();
    const std::size_t recorded = count(log, personal_);
    std::uint64_t dropped = 0;
    std::istringstream in(log);
    for (std::string line; std::getline(in, line);) {
        if (line.find("\"kind\":\"backend.audit-dropped\"") == std::string::npos) continue;
        const auto record = json::parse(line);
        EXPECT_EQ(record["persona"], personal_) << line;
        dropped += record["fields"]["dropped"].get<std::uint64_t>();
    }
    EXPECT_EQ(count(log, secure_), 5u);
    EXPECT_LE(recorded, 4 * kMaxBackendAuditPerSecond) << "the flood was bounded";
    EXPECT_GT(dropped, 0u);
    EXPECT_EQ(recorded + dropped, 2000u) << "recorded " << recorded << ", dropped " << dropped;
}

} // namespace
} // namespace twofold::manager

// dom0's PIN prompt on the key channel (issue 15): keys come only from the input holder, only
// while a prompt has input, and no refusal names the key.
namespace twofold::manager {
namespace {
std::string prompt_key_line(const std::string& key) { return R"({"type":"prompt-key","key":")" + key + R"("})"; }

TEST_F(BackendSupervisionTest, PromptKeyFromABackendThatDoesNotHoldInputIsAProtocolError) {
    start_manager({backend("display", {"--holds", "display", "--raw", prompt_key_line("7")})});
    ASSERT_TRUE(eventually([&] { return audit_text().find("does not hold input") != std::string::npos; })) << audit_text();
    EXPECT_FALSE(status()["pin_prompt"]["open"].get<bool>());
}

TEST_F(BackendSupervisionTest, PromptKeyWhileNoPromptHasInputIsAProtocolError) {
    start_manager({backend("input", {"--holds", "input", "--raw", prompt_key_line("4")})});
    ASSERT_TRUE(eventually([&] { return audit_text().find("while no PIN prompt has input") != std::string::npos; })) << audit_text();
}

TEST_F(BackendSupervisionTest, GarbagePromptKeyIsRefusedWithoutEchoingIt) {
    start_manager({backend("input", {"--holds", "input", "--raw", prompt_key_line("31337"),
                                     "--raw", R"({"type":"prompt-key","key":7})", "--raw", R"({"type":"prompt-key","key":"1","x":1})"})});
    ASSERT_TRUE(eventually([&] {
        const auto log = audit_text();
        std::size_t n = 0;
        for (auto at = log.find("backend.protocol-error"); at != std::string::npos; at = log.find("backend.protocol-error", at + 1)) ++n;
        return n >= 3;
    })) << audit_text();
    EXPECT_EQ(audit_text().find("31337"), std::string::npos) << "a refused key is never recorded";
}

TEST_F(BackendSupervisionTest, SwitchToALockedPersonaOpensThePromptAndItsKeysReachOnlyTheManager) {
    secure_locked_ = true;
    // The input fake types "1 2 Enter" once it is routed to the prompt: too short, so the
    // prompt says so without running the keystore.
    start_manager({backend("display", {"--holds", "display"}),
                   backend("input", {"--holds", "input", "--on-prompt-send", prompt_key_line("1"),
                                     "--on-prompt-send", prompt_key_line("2"), "--on-prompt-send", prompt_key_line("enter")})});
    ASSERT_TRUE(eventually([&] { return running_with("display", "display") && running_with("input", "input"); }));
    const auto reply = switch_to(secure_);
    ASSERT_TRUE(reply["ok"].get<bool>()) << reply.dump();
    EXPECT_EQ(reply["result"]["prompt"], secure_);
    EXPECT_EQ(reply["result"]["foreground"], personal_) << "the locked persona is not the foreground";
    const auto display_log = read_file(log_of("display"));
    EXPECT_NE(display_log.find("focus " + secure_), std::string::npos);
    EXPECT_NE(display_log.find(" prompt"), std::string::npos) << display_log;
    ASSERT_TRUE(eventually([&] { return status()["pin_prompt"]["up"].get<bool>(); })) << status().dump();
    const auto log = audit_text();
    EXPECT_NE(log.find("prompt.open"), std::string::npos);
    EXPECT_EQ(log.find("backend.protocol-error"), std::string::npos) << log;
    // Input went to nobody before the display showed the prompt, then to the prompt.
    const auto input_log = read_file(log_of("input"));
    EXPECT_LT(input_log.find("focus nobody"), input_log.find(" prompt")) << input_log;
    // Escape would cancel; the switch key does the same: back to the persona it came from.
    const auto back = switch_to(personal_);
    ASSERT_TRUE(back["ok"].get<bool>()) << back.dump();
    EXPECT_FALSE(status()["pin_prompt"]["open"].get<bool>());
    EXPECT_NE(audit_text().find("prompt.close"), std::string::npos);
}

} // namespace
} // namespace twofold::manager

// Per-persona backends (issue 14, item 2): the supervisor alone, on its own loop thread, with
// the loopback's xenstore behind the proxies, so that the tests choose the personas' domids.
namespace twofold::manager {
namespace {

struct Recorded {
    std::string kind;
    std::optional<std::string> persona;
    json fields;
};

// What the supervisor reports, kept for the test thread (it runs on the loop's).
class RecordingEvents : public BackendEvents {
public:
    void holders_registered(const std::string& backend, const std::vector<FocusHolder>&) override {
        const std::scoped_lock lock(mutex_);
        registered_.push_back(backend);
    }
    void holders_lost(const std::string&, const std::vector<FocusHolder>&) override {}
    void focus_acknowledged(FocusHolder, std::uint64_t) override {}
    void focus_refused(FocusHolder, std::uint64_t, const std::string&) override {}
    void backend_audit(const std::string& kind, const std::optional<std::string>& persona, json fields) override {
        const std::scoped_lock lock(mutex_);
        audits_.push_back({kind, persona, std::move(fields)});
    }
    std::vector<Recorded> audits() {
        const std::scoped_lock lock(mutex_);
        return audits_;
    }
    std::vector<std::string> registered() {
        const std::scoped_lock lock(mutex_);
        return registered_;
    }

private:
    std::mutex mutex_;
    std::vector<Recorded> audits_;
    std::vector<std::string> registered_;
};

std::size_t count_of(const std::string& text, const std::string& needle) {
    std::size_t n = 0;
    for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
    return n;
}

// The line of a fake's log that starts with `prefix` (the last one), or "".
std::string last_line(const std::string& log, const std::string& prefix) {
    std::string found;
    std::istringstream in(log);
    for (std::string line; std::getline(in, line);) {
        if (line.rfind(prefix, 0) == 0) found = line;
    }
    return found;
}

class PerPersonaSupervisionTest : public ::testing::Test {
protected:
    void SetUp() override {
        static int counter = 0;
        dir_ = std::filesystem::temp_directory_path() /
               ("twofold-perpersona-" + std::to_string(::getpid()) + "x" + std::to_string(++counter));
        std::filesystem::remove_all(dir_);
        std::filesystem::create_directories(dir_);
        personal_dom_ = hv_.create_domain("personal");
        secure_dom_ = hv_.create_domain("secure");
        thread_ = std::thread([this] { io_.run(); });
    }
    void TearDown() override {
        on_loop([this] {
            if (supervisor_) supervisor_->stop_all(300ms);
            supervisor_.reset();
        });
        work_.reset();
        io_.stop();
        thread_.join();
        std::filesystem::remove_all(dir_);
    }

    // A fake backend; an instance of it logs to dir_/<name>.log.<persona>.
    BackendConfig fake(const std::string& name, std::vector<std::string> args) {
        BackendConfig c;
        c.name = name;
        c.command = {TWOFOLD_FAKE_BACKEND, "--name", name, "--holds", "", "--log", (dir_ / (name + ".log")).string()};
        c.command.insert(c.command.end(), args.begin(), args.end());
        c.user = "twofold-" + name;
        c.restart.max_attempts = 3;
        c.restart.window_seconds = 60;
        c.restart.first_delay = 20ms;
        c.restart.max_delay = 100ms;
        c.hello_timeout = 3000ms;
        return c;
    }
    BackendConfig instance(const std::string& name, std::vector<std::string> args, std::optional<std::string> peer = std::nullopt) {
        auto c = fake(name, std::move(args));
        c.per_persona = true;
        c.peer = std::move(peer);
        return c;
    }
    std::string log_of(const std::string& name, const std::string& persona = "") {
        return read_file(dir_ / (name + ".log" + (persona.empty() ? "" : "." + persona)));
    }

    void start(std::vector<BackendConfig> backends) {
        on_loop([&] {
            supervisor_ = std::make_unique<BackendSupervisor>(
                io_, std::move(backends), std::vector<SupervisedPersona>{{"personal", "personal"}, {"secure", "secure"}},
                events_);
            supervisor_->start(false);
            supervisor_->start(true);
        });
    }
    void persona_domain(const std::string& persona, xen::DomId domid) {
        on_loop([&] { supervisor_->persona_domain(persona, domid); });
    }
    json status_of(const std::string& label) {
        json all;
        on_loop([&] { all = supervisor_->status(); });
        for (const auto& b : all) {
            if (b["name"] == label) return b;
        }
        return nullptr;
    }
    bool running(const std::string& label) {
        const auto b = status_of(label);
        return !b.is_null() && b["state"] == "running";
    }
    // Running, and not as `old`: from one status, since a killed process shows "running" until
    // it is reaped and its successor's pid comes with "starting".
    bool running_again(const std::string& label, pid_t old) {
        const auto b = status_of(label);
        return !b.is_null() && b["state"] == "running" && b["pid"].is_number() && b["pid"].get<pid_t>() != old;
    }
    std::optional<pid_t> pid_of(const std::string& label) {
        std::optional<pid_t> pid;
        on_loop([&] { pid = supervisor_->pid_of(label); });
        return pid;
    }
    bool audited(const std::string& kind, const std::string& text = "") {
        for (const auto& r : events_.audits()) {
            if (r.kind == kind && r.fields.dump().find(text) != std::string::npos) return true;
        }
        return false;
    }
    std::string audit_dump() {
        std::string out;
        for (const auto& r : events_.audits()) out += r.kind + " " + r.persona.value_or("-") + " " + r.fields.dump() + "\n";
        return out;
    }
    bool eventually(const std::function<bool()>& pred, std::chrono::milliseconds limit = 10s) {
        const auto deadline = std::chrono::steady_clock::now() + limit;
        while (std::chrono::steady_clock::now() < deadline) {
            if (pred()) return true;
            std::this_thread::sleep_for(20ms);
        }
        return pred();
    }
    // Runs `action` on the supervisor's loop and waits for it.
    void on_loop(const std::function<void()>& action) {
        std::promise<void> done;
        asio::post(io_, [&] {
            action();
            done.set_value();
        });
        done.get_future().wait();
    }

    loopback::Hypervisor hv_;
    xen::DomId personal_dom_ = 0;
    xen::DomId secure_dom_ = 0;
    std::filesystem::path dir_;
    asio::io_context io_;
    asio::executor_work_guard<asio::io_context::executor_type> work_ = asio::make_work_guard(io_);
    RecordingEvents events_;
    std::unique_ptr<BackendSupervisor> supervisor_;
    std::thread thread_;
};

TEST_F(PerPersonaSupervisionTest, InstancesStartOnlyWithTheirPersonasDomainWithTheirArgvAndFds) {
    start({fake("input", {"--log-argv"}), instance("vkbd", {"--log-argv"}, "input")});
    ASSERT_TRUE(eventually([&] { return running("input"); })) << audit_dump();
    std::this_thread::sleep_for(200ms); // an instance started by start() would be up by now
    EXPECT_EQ(status_of("vkbd/personal")["state"], "stopped");
    EXPECT_EQ(status_of("vkbd/secure")["state"], "stopped");
    EXPECT_FALSE(pid_of("vkbd/personal"));
    EXPECT_FALSE(std::filesystem::exists(dir_ / "vkbd.log.personal"));
    bool configured = false;
    on_loop([&] { configured = supervisor_->configured("vkbd") && !supervisor_->configured("vkbd/personal"); });
    EXPECT_TRUE(configured);

    persona_domain("personal", 7);
    ASSERT_TRUE(eventually([&] { return running("vkbd/personal"); })) << audit_dump();
    const auto st = status_of("vkbd/personal");
    EXPECT_EQ(st["persona"], "personal");
    EXPECT_EQ(st["domid"], 7);
    EXPECT_EQ(st["pid"], *pid_of("vkbd/personal"));
    EXPECT_EQ(status_of("vkbd/secure")["state"], "stopped") << "the other persona's domain does not exist yet";

    const auto log = log_of("vkbd", "personal");
    const std::string expected_tail = " --focus-fd 3 --user twofold-vkbd-personal --persona personal:personal --domid 7 --peer-fd 5";
    const auto argv = last_line(log, "argv ");
    ASSERT_GE(argv.size(), expected_tail.size()) << log;
    EXPECT_EQ(argv.substr(argv.size() - expected_tail.size()), expected_tail) << log;
    EXPECT_NE(log.find("fd 3 stream\n"), std::string::npos) << log;
    EXPECT_NE(log.find("fd 5 seqpacket\n"), std::string::npos) << log;
    EXPECT_EQ(count_of(log, "\nfd "), 2u) << "fd 3 and fd 5, every other one closed: " << log;

    // The peer: each persona's link, in the personas' order, and nothing else.
    const auto peer_log = log_of("input");
    const auto peer_argv = last_line(peer_log, "argv ");
    const std::string peer_tail = " --focus-fd 3 --user twofold-input --peer-fd personal=5 --peer-fd secure=6";
    ASSERT_GE(peer_argv.size(), peer_tail.size()) << peer_log;
    EXPECT_EQ(peer_argv.substr(peer_argv.size() - peer_tail.size()), peer_tail) << peer_log;
    EXPECT_EQ(peer_argv.find("--persona"), std::string::npos);
    EXPECT_NE(peer_log.find("fd 5 seqpacket\nfd 6 seqpacket\n"), std::string::npos) << peer_log;
    EXPECT_EQ(count_of(peer_log, "\nfd "), 3u) << peer_log;

    persona_domain("secure", 9);
    ASSERT_TRUE(eventually([&] { return running("vkbd/secure"); })) << audit_dump();
    EXPECT_NE(last_line(log_of("vkbd", "secure"), "argv ").find("--user twofold-vkbd-secure --persona secure:secure --domid 9 --peer-fd 5"),
              std::string::npos)
        << log_of("vkbd", "secure");
    EXPECT_TRUE(audited("backend.start", "vkbd/secure"));
    EXPECT_TRUE(events_.registered().empty());

    const auto pids = std::vector<pid_t>{*pid_of("input"), *pid_of("vkbd/personal"), *pid_of("vkbd/secure")};
    on_loop([&] { supervisor_->stop_all(300ms); });
    for (const auto pid : pids) EXPECT_NE(::kill(pid, 0), 0) << "stop_all ends and reaps pid " << pid;
    EXPECT_EQ(status_of("vkbd/secure")["state"], "stopped");
}

// The point of it: a taken-over instance reaches its own persona's xenstore only, while a
// backend serving every persona still reaches both.
TEST_F(PerPersonaSupervisionTest, AnInstancesProxyAdmitsOnlyItsOwnPersonasDomain) {
    auto dom0 = hv_.platform(xen::kDom0)->open_xenstore();
    const auto node = [](xen::DomId domid, const std::string& type) {
        return "/local/domain/" + std::to_string(domid) + "/device/" + type + "/0/state";
    };
    for (const auto domid : {personal_dom_, secure_dom_}) {
        dom0->write(node(domid, "vkbd"), "1");
        dom0->write(node(domid, "vfb"), "1");
    }
    auto vkbd = instance("vkbd", {"--log-argv", "--xs-read", node(personal_dom_, "vkbd"), "--xs-read", node(secure_dom_, "vkbd")});
    vkbd.xenstore = "vkbd";
    auto display = fake("display", {"--xs-read", node(personal_dom_, "vfb"), "--xs-read", node(secure_dom_, "vfb")});
    display.xenstore = "vfb";
    display.after_personas = true;
    // As the manager does: the personas' domains, then the backends waiting for them.
    on_loop([&] {
        supervisor_ = std::make_unique<BackendSupervisor>(
            io_, std::vector<BackendConfig>{vkbd, display},
            std::vector<SupervisedPersona>{{"personal", "personal"}, {"secure", "secure"}}, events_,
            [this] { return hv_.platform(xen::kDom0)->open_xenstore(); });
        supervisor_->persona_domain("personal", personal_dom_);
        supervisor_->persona_domain("secure", secure_dom_);
        supervisor_->start(true);
    });
    // Lines, not the argv line's "--xs-read" arguments.
    const auto read_twice = [&](const std::string& log) { return count_of(log, "\nxs-read ") >= 2; };
    ASSERT_TRUE(eventually([&] {
        return read_twice(log_of("vkbd", "personal")) && read_twice(log_of("vkbd", "secure")) && read_twice(log_of("display"));
    })) << log_of("vkbd", "personal") << log_of("vkbd", "secure") << log_of("display") << audit_dump();
    const auto personal = log_of("vkbd", "personal");
    const auto secure = log_of("vkbd", "secure");
    EXPECT_NE(personal.find("xs-read " + node(personal_dom_, "vkbd") + " value 1"), std::string::npos) << personal;
    EXPECT_NE(personal.find("xs-read " + node(secure_dom_, "vkbd") + " errno 13"), std::string::npos) << personal;
    EXPECT_NE(secure.find("xs-read " + node(secure_dom_, "vkbd") + " value 1"), std::string::npos) << secure;
    EXPECT_NE(secure.find("xs-read " + node(personal_dom_, "vkbd") + " errno 13"), std::string::npos) << secure;
    EXPECT_NE(last_line(personal, "argv ").find("--xenstore-fd 4 --persona personal:personal --domid " + std::to_string(personal_dom_)),
              std::string::npos)
        << personal;
    EXPECT_NE(personal.find("fd 4 stream\n"), std::string::npos) << personal;
    const auto shared = log_of("display");
    EXPECT_NE(shared.find("xs-read " + node(personal_dom_, "vfb") + " value 1"), std::string::npos) << shared;
    EXPECT_NE(shared.find("xs-read " + node(secure_dom_, "vfb") + " value 1"), std::string::npos) << shared;
    EXPECT_TRUE(eventually([&] { return status_of("vkbd/personal")["xenstore"]["denied"] == 1; })) << status_of("vkbd/personal").dump();
}

// The peer link is one SEQPACKET pair per persona, made once: instance X's fd 5 and the peer's
// fd for X are its two ends, before and after either side restarts.
TEST_F(PerPersonaSupervisionTest, PeerLinkJoinsEachPersonasInstanceAndSurvivesRestarts) {
    start({fake("input", {"--peer-talk"}), instance("vkbd", {"--peer-talk"}, "input")});
    persona_domain("personal", 7);
    persona_domain("secure", 9);
    ASSERT_TRUE(eventually([&] {
        return count_of(log_of("input"), "peer-recv personal from-personal\n") == 1 &&
               count_of(log_of("input"), "peer-recv secure from-secure\n") == 1 &&
               count_of(log_of("vkbd", "personal"), "peer-recv self echo-from-personal\n") == 1 &&
               count_of(log_of("vkbd", "secure"), "peer-recv self echo-from-secure\n") == 1;
    })) << log_of("input") << log_of("vkbd", "personal") << log_of("vkbd", "secure") << audit_dump();
    EXPECT_EQ(count_of(log_of("input"), "peer-recv personal from-secure"), 0u) << log_of("input");
    EXPECT_EQ(count_of(log_of("input"), "peer-recv secure from-personal"), 0u) << log_of("input");

    // The personal instance dies: its successor talks to the same peer process on the same pair.
    const auto peer_pid = *pid_of("input");
    const auto first = *pid_of("vkbd/personal");
    ASSERT_EQ(::kill(first, SIGKILL), 0);
    ASSERT_TRUE(eventually([&] {
        return count_of(log_of("input"), "peer-recv personal from-personal\n") == 2 &&
               count_of(log_of("vkbd", "personal"), "peer-recv self echo-from-personal\n") == 2;
    })) << log_of("input") << log_of("vkbd", "personal") << audit_dump();
    EXPECT_NE(*pid_of("vkbd/personal"), first);
    EXPECT_EQ(*pid_of("input"), peer_pid) << "the peer was not restarted with it";
    EXPECT_EQ(status_of("vkbd/personal")["restarts"], 1);

    // The peer dies: its successor finds the secure instance's link on its fd for secure.
    ASSERT_EQ(::kill(peer_pid, SIGKILL), 0);
    ASSERT_TRUE(eventually([&] { return running_again("input", peer_pid); })) << audit_dump();
    const auto secure_pid = *pid_of("vkbd/secure");
    ASSERT_EQ(::kill(secure_pid, SIGKILL), 0);
    ASSERT_TRUE(eventually([&] { return count_of(log_of("input"), "peer-recv secure from-secure\n") == 2; }))
        << log_of("input") << audit_dump();
    EXPECT_EQ(count_of(log_of("input"), "peer-recv personal from-secure"), 0u) << log_of("input");
}

TEST_F(PerPersonaSupervisionTest, ANewDomainRespawnsTheInstanceAtOnceOutsideItsBudget) {
    auto vkbd = instance("vkbd", {"--log-argv"});
    vkbd.restart.max_attempts = 1;
    start({vkbd});
    persona_domain("personal", 7);
    ASSERT_TRUE(eventually([&] { return running("vkbd/personal"); })) << audit_dump();
    const auto first = *pid_of("vkbd/personal");

    persona_domain("personal", 7); // the same domain found again
    std::this_thread::sleep_for(200ms);
    EXPECT_EQ(pid_of("vkbd/personal"), first);
    EXPECT_EQ(count_of(log_of("vkbd", "personal"), "start "), 1u);
    EXPECT_FALSE(audited("backend.domain-changed"));

    persona_domain("personal", 11); // recreated
    ASSERT_TRUE(eventually([&] { return running_again("vkbd/personal", first); })) << audit_dump();
    EXPECT_NE(last_line(log_of("vkbd", "personal"), "argv ").find("--domid 11"), std::string::npos) << log_of("vkbd", "personal");
    EXPECT_EQ(status_of("vkbd/personal")["domid"], 11);
    EXPECT_EQ(status_of("vkbd/personal")["restarts"], 0);
    EXPECT_NE(::kill(first, 0), 0) << "the instance of the old domain is gone";
    EXPECT_TRUE(audited("backend.domain-changed", "\"domid\":11"));
    const auto second = *pid_of("vkbd/personal");
    persona_domain("personal", 12);
    ASSERT_TRUE(eventually([&] { return running_again("vkbd/personal", second); })) << audit_dump();

    // Two replacements later its one restart is still there for a real crash.
    ASSERT_EQ(::kill(*pid_of("vkbd/personal"), SIGKILL), 0);
    ASSERT_TRUE(eventually([&] {
        const auto b = status_of("vkbd/personal");
        return b["state"] == "running" && b["restarts"] == 1;
    }))
        << status_of("vkbd/personal").dump() << audit_dump();
    EXPECT_FALSE(audited("backend.restart-abandoned"));
    for (const auto& r : events_.audits()) {
        if (r.kind == "backend.domain-changed") {
            EXPECT_EQ(r.persona, "personal") << audit_dump();
        }
    }
}

TEST_F(PerPersonaSupervisionTest, AnInstanceClaimingAFocusHolderIsKilled) {
    auto vkbd = instance("vkbd", {"--holds", "input"}); // the last --holds wins in the fake
    vkbd.restart.max_attempts = 1;
    start({vkbd});
    persona_domain("personal", 7);
    ASSERT_TRUE(eventually([&] { return status_of("vkbd/personal")["state"] == "failed"; }))
        << status_of("vkbd/personal").dump() << audit_dump();
    EXPECT_TRUE(audited("backend.hello-rejected", "holds no focus holder")) << audit_dump();
    EXPECT_TRUE(audited("backend.protocol-error", "claims focus holders")) << audit_dump();
    EXPECT_TRUE(events_.registered().empty()) << "no holder was ever registered";
    EXPECT_TRUE(status_of("vkbd/personal")["holds"].empty());
}

// The control of the test above: the same instance without holders is left running.
TEST_F(PerPersonaSupervisionTest, AnInstanceWithoutHoldersRuns) {
    start({instance("vkbd", {})});
    persona_domain("personal", 7);
    ASSERT_TRUE(eventually([&] { return running("vkbd/personal"); })) << audit_dump();
    std::this_thread::sleep_for(200ms);
    EXPECT_TRUE(running("vkbd/personal"));
    EXPECT_FALSE(audited("backend.hello-rejected")) << audit_dump();
}

TEST_F(PerPersonaSupervisionTest, AnInstancesAuditEventsAreItsOwnPersonasOnly) {
    const auto event = [](const std::string& name, const json& fields) {
        return focus::format(focus::ToManager{focus::AuditEvent{name, fields}});
    };
    start({instance("vkbd", {"--raw", event("vkbd.unnamed", json::object()), "--raw", event("vkbd.own", {{"persona", "personal"}}),
                             "--raw", event("vkbd.other", {{"persona", "secure"}}), "--raw", event("vkbd.last", json::object())})});
    persona_domain("personal", 7);
    ASSERT_TRUE(eventually([&] { return audited("vkbd.last"); })) << audit_dump();
    for (const auto& r : events_.audits()) {
        if (r.kind == "vkbd.unnamed" || r.kind == "vkbd.own" || r.kind == "vkbd.last") {
            EXPECT_EQ(r.persona, "personal") << audit_dump();
            EXPECT_EQ(r.fields["backend"], "vkbd/personal");
        }
    }
    EXPECT_TRUE(audited("vkbd.unnamed"));
    EXPECT_TRUE(audited("vkbd.own"));
    EXPECT_FALSE(audited("vkbd.other")) << "never recorded, under either persona: " << audit_dump();
    EXPECT_TRUE(audited("backend.protocol-error", "names another persona than its own")) << audit_dump();
    EXPECT_TRUE(running("vkbd/personal")) << "one error is counted, not fatal";
}

} // namespace
} // namespace twofold::manager
