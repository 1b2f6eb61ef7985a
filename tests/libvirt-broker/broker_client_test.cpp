// BrokerClient driving the real twofold-libvirt-broker with libvirt's test driver: each
// DomainControl call the manager makes, through the process boundary, confined (seccomp in
// kill mode: a syscall the allowlist lacks would kill the broker and fail the test).
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "twofold/libvirt_broker/protocol.h"
#include "twofold/manager/broker_client.h"
#include "twofold/manager/child_process.h"
#include "twofold/manager/reconcile.h"

namespace twofold::manager {
namespace {

BrokerOptions real_options() {
    BrokerOptions o;
    o.program = TWOFOLD_BROKER;
    o.uri = "test:///default";
    o.reply_timeout = std::chrono::seconds(30);
    return o;
}

std::string test_xml(const std::string& name) {
    return "<domain type='test'><name>" + name +
           "</name><memory>65536</memory><vcpu>1</vcpu><os><type>hvm</type></os></domain>";
}

// "Uid:\treal\teffective..." of a process.
std::string uid_line(pid_t pid) {
    std::ifstream status("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(status, line)) {
        if (line.rfind("Uid:", 0) == 0) {
            return line;
        }
    }
    return {};
}

TEST(BrokerClient, LooksUpTheTestDriversDomain) {
    BrokerClient client(real_options());
    const auto info = client.find("test");
    ASSERT_TRUE(info.has_value());
    EXPECT_EQ(info->name, "test");
    EXPECT_EQ(info->state, DomainState::Running);
    EXPECT_GE(info->id, 0);
    EXPECT_GT(client.status().pid, 0);
    EXPECT_EQ(client.status().kind, "broker");
}

TEST(BrokerClient, MissingDomainIsNullopt) {
    BrokerClient client(real_options());
    EXPECT_FALSE(client.find("no-such-domain").has_value());
    EXPECT_FALSE(client.lookup("no-such-domain").has_value());
}

TEST(BrokerClient, DefineStartDestroyUndefineRoundTrip) {
    BrokerClient client(real_options());
    auto domain = client.define(test_xml("bc-one"));
    EXPECT_EQ(domain.info().state, DomainState::ShutOff);
    EXPECT_TRUE(domain.info().persistent);
    domain.start();
    const auto running = domain.info();
    EXPECT_EQ(running.state, DomainState::Running);
    EXPECT_GT(running.id, 0);

    const auto listed = client.list_domains();
    EXPECT_TRUE(std::any_of(listed.begin(), listed.end(), [](const DomainInfo& d) { return d.name == "bc-one"; }));
    EXPECT_NE(domain.xml().find("<name>bc-one</name>"), std::string::npos);
    const auto uuid = domain.uuid();
    EXPECT_EQ(uuid.size(), 36U);
    EXPECT_NE(domain.xml().find(uuid), std::string::npos);

    domain.destroy();
    EXPECT_EQ(domain.info().state, DomainState::ShutOff);
    domain.undefine();
    EXPECT_FALSE(client.find("bc-one").has_value());
}

TEST(BrokerClient, LibvirtErrorsCarryLibvirtsText) {
    BrokerClient client(real_options());
    auto domain = client.define(test_xml("bc-two"));
    try {
        domain.destroy(); // not running
        FAIL() << "destroying a stopped domain must fail";
    } catch (const LibvirtError& e) {
        EXPECT_NE(std::string(e.what()).find("domain is not running"), std::string::npos) << e.what();
    }
    try {
        client.define("<domain type='test'><name>broken");
        FAIL() << "malformed XML must be refused";
    } catch (const LibvirtError& e) {
        EXPECT_NE(std::string(e.what()).find("cannot define domain"), std::string::npos) << e.what();
    }
    EXPECT_GT(client.status().pid, 0) << "a libvirt error is not a broker failure";
    EXPECT_EQ(client.status().restarts, 0U);
}

TEST(BrokerClient, ReconcileDefinesAndStartsThroughTheBroker) {
    BrokerClient client(real_options());
    PersonaSpec spec;
    spec.name = "bc-persona";
    spec.kind = "personal";
    spec.memory_mib = 128;
    spec.vcpus = 1;
    spec.kernel = "/boot/vmlinuz";
    const auto report = reconcile({spec}, client, DomainFlavor::test_driver());
    ASSERT_TRUE(report.ok()) << report.personas.front().detail;
    EXPECT_EQ(report.personas.front().action, ReconcileAction::DefinedAndStarted);
    EXPECT_EQ(client.find("bc-persona")->state, DomainState::Running);
    EXPECT_EQ(reconcile({spec}, client, DomainFlavor::test_driver()).personas.front().action, ReconcileAction::AlreadyRunning);
}

TEST(BrokerClient, BrokerDropsToItsOwnUser) {
    ASSERT_EQ(::geteuid(), 0U) << "the drop is tested from root";
    auto options = real_options();
    options.user = "nobody";
    BrokerClient client(options);
    ASSERT_TRUE(client.find("test").has_value());
    const auto line = uid_line(client.status().pid);
    EXPECT_EQ(line, "Uid:\t65534\t65534\t65534\t65534") << line;
}

TEST(BrokerClient, BrokerRunsInSeccompFilterMode) {
    BrokerClient client(real_options());
    ASSERT_TRUE(client.find("test").has_value());
    std::ifstream status("/proc/" + std::to_string(client.status().pid) + "/status");
    std::string line;
    std::string seccomp;
    while (std::getline(status, line)) {
        if (line.rfind("Seccomp:", 0) == 0) {
            seccomp = line;
        }
    }
    EXPECT_EQ(seccomp, "Seccomp:\t2") << "2: filter mode";
}

TEST(BrokerClient, ClosingTheClientEndsTheBroker) {
    pid_t pid = -1;
    {
        BrokerClient client(real_options());
        ASSERT_TRUE(client.find("test").has_value());
        pid = client.status().pid;
    }
    EXPECT_EQ(::kill(pid, 0), -1) << "exited and reaped";
}

// Unfiltered, the broker returns from main, so its exit-time handlers run: in the asan build
// LeakSanitizer checks everything a session allocated (a leak turns the status into 23).
TEST(BrokerProcess, UnconfinedSessionExitsWithStatusZero) {
    auto broker = spawn_with_focus_link({TWOFOLD_BROKER, "--libvirt", "test:///default", "--link-fd",
                                         std::to_string(kFocusFd), "--no-confine"});
    const libvirt_broker::Request request{1, libvirt_broker::Op::Lookup, "test"};
    const std::string line = libvirt_broker::encode_request(request) + "\n";
    ASSERT_EQ(::write(broker.link.get(), line.data(), line.size()), static_cast<ssize_t>(line.size()));
    std::string reply;
    char c = 0;
    while (::read(broker.link.get(), &c, 1) == 1 && c != '\n') {
        reply.push_back(c);
    }
    const auto parsed = libvirt_broker::parse_reply(request, reply);
    ASSERT_TRUE(std::holds_alternative<libvirt_broker::Result>(parsed)) << reply;
    broker.link = xen::UniqueFd(); // EOF: the manager closed the link
    int status = 0;
    ASSERT_EQ(::waitpid(broker.pid, &status, 0), broker.pid);
    ASSERT_TRUE(WIFEXITED(status)) << "killed by signal " << WTERMSIG(status);
    EXPECT_EQ(WEXITSTATUS(status), 0) << "23 is LeakSanitizer's exit code";
}

#ifdef TWOFOLD_LIBVIRTD
// The board's shape: libvirt's remote driver to a libvirtd (here a private one, as nobody,
// hosting the test driver). When libvirtd goes away mid-session, the broker must answer the
// call with libvirt's error and exit (not be killed by SIGPIPE or by its seccomp filter while
// libvirt formats the error), and the client must report the next failures clearly.
class PrivateLibvirtd : public ::testing::Test {
protected:
    void SetUp() override {
        ASSERT_EQ(::geteuid(), 0U) << "libvirtd is started as nobody from root";
        dir_ = std::filesystem::path("/tmp") / ("twofold-broker-lvd-" + std::to_string(::getpid()));
        std::filesystem::create_directories(dir_ / "run");
        std::ofstream(dir_ / "libvirtd.conf") << "unix_sock_dir = \"" << (dir_ / "run").string()
                                               << "\"\nunix_sock_rw_perms = \"0777\"\nauth_unix_rw = \"none\"\nauth_unix_ro = \"none\"\n";
        for (const auto& p : {dir_, dir_ / "run", dir_ / "libvirtd.conf"}) {
            ASSERT_EQ(::chown(p.c_str(), 65534, 65534), 0);
        }
        const std::string home = dir_.string();
        daemon_ = spawn_with_focus_link({"/usr/bin/setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
                                         "/usr/bin/env", "HOME=" + home, "XDG_RUNTIME_DIR=" + home + "/run",
                                         "XDG_CONFIG_HOME=" + home, "XDG_CACHE_HOME=" + home, TWOFOLD_LIBVIRTD, "--config",
                                         home + "/libvirtd.conf", "--timeout", "120"})
                      .pid;
        const auto socket = dir_ / "run" / "libvirt-sock";
        for (int i = 0; i < 200 && !std::filesystem::exists(socket); ++i) {
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        ASSERT_TRUE(std::filesystem::exists(socket)) << "libvirtd did not start";
        uri_ = "test+unix:///default?socket=" + socket.string();
    }
    void TearDown() override {
        stop_daemon();
        std::filesystem::remove_all(dir_);
    }
    void stop_daemon() {
        if (daemon_ > 0) {
            ::kill(daemon_, SIGTERM);
            int status = 0;
            ::waitpid(daemon_, &status, 0);
            daemon_ = -1;
        }
    }

    std::filesystem::path dir_;
    pid_t daemon_ = -1;
    std::string uri_;
};

TEST_F(PrivateLibvirtd, LibvirtdGoingAwayIsAnsweredThenTheBrokerExits) {
    auto options = real_options();
    options.uri = uri_;
    options.user = "nobody";
    options.backoff_min = std::chrono::milliseconds(0);
    BrokerClient client(options);
    ASSERT_EQ(client.find("test")->state, DomainState::Running);
    const pid_t broker = client.status().pid;

    stop_daemon();
    try {
        (void)client.find("test");
        FAIL() << "a lookup without libvirtd must fail";
    } catch (const LibvirtError& e) {
        // libvirt's own text, in a reply: the broker was neither killed nor left hanging.
        EXPECT_EQ(std::string(e.what()).find("libvirt broker"), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("cannot look up domain 'test'"), std::string::npos) << e.what();
    }
    // It exits by itself (status 3: connection lost) and is reaped by the next call, which
    // starts a new broker that cannot connect: a clear error naming its exit status.
    for (int i = 0; i < 100 && std::ifstream("/proc/" + std::to_string(broker) + "/stat").good(); ++i) {
        std::string stat;
        std::getline(std::ifstream("/proc/" + std::to_string(broker) + "/stat"), stat);
        if (stat.find(") Z ") != std::string::npos) {
            break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    try {
        (void)client.find("test");
        FAIL() << "no libvirtd, no connection";
    } catch (const LibvirtError& e) {
        EXPECT_NE(std::string(e.what()).find("exited with status 3"), std::string::npos) << e.what();
    }
    EXPECT_EQ(client.status().restarts, 1U);
}
#endif

} // namespace
} // namespace twofold::manager
