// BrokerClient driving the real twofold-libvirt-broker with libvirt's test driver: each
// DomainControl call the manager makes, through the process boundary, confined (seccomp in
// kill mode: a syscall the allowlist lacks would kill the broker and fail the test).
#include <unistd.h>

#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "twofold/manager/broker_client.h"
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

} // namespace
} // namespace twofold::manager
