// Runs against libvirt's real test driver (test:///default): a real libvirt connection with
// in-process state shared by every connection of the process, which is what lets a second
// "manager" see what the first one started.
#include "twofold/manager/libvirt.h"
#include "twofold/manager/reconcile.h"

#include <gtest/gtest.h>

#include <libvirt/virterror.h>

namespace twofold::manager {
namespace {

void quiet(void*, virErrorPtr) {}

class ReconcileTest : public ::testing::Test {
protected:
    void SetUp() override {
        virSetErrorFunc(nullptr, quiet);
        // Unique names per test: the test driver's state lives as long as the process.
        const std::string suffix = ::testing::UnitTest::GetInstance()->current_test_info()->name();
        personal_.name = "p-" + std::to_string(std::hash<std::string>{}(suffix) % 100000);
        secure_.name = "s-" + std::to_string(std::hash<std::string>{}(suffix) % 100000);
    }
    PersonaSpec personal_{"", "personal", 256, 1, "/k", "/i", "console=hvc0", {}, {}, {}};
    PersonaSpec secure_{"", "secure", 256, 1, "/k", "/i", "console=hvc0", {{"/var/lib/twofold/secure-root.img", "xvda", true}}, {}, {}};
    LibvirtConnection libvirt_{"test:///default"};
};

TEST_F(ReconcileTest, DefinesAndStartsMissingPersonas) {
    const auto report = reconcile({personal_, secure_}, libvirt_, DomainFlavor::test_driver());
    ASSERT_TRUE(report.ok()) << report.personas[0].detail;
    ASSERT_EQ(report.personas.size(), 2u);
    EXPECT_EQ(report.personas[0].action, ReconcileAction::DefinedAndStarted);
    EXPECT_EQ(report.personas[1].action, ReconcileAction::DefinedAndStarted);
    const auto d = libvirt_.lookup(secure_.name);
    ASSERT_TRUE(d.has_value());
    EXPECT_EQ(d->info().state, DomainState::Running);
}

TEST_F(ReconcileTest, SecondManagerLeavesRunningPersonasUndisturbed) {
    const auto first = reconcile({personal_, secure_}, libvirt_, DomainFlavor::test_driver());
    ASSERT_TRUE(first.ok());
    const int domid_before = first.personas[1].domid;

    LibvirtConnection restarted("test:///default"); // as after `kill -9` and a new manager
    const auto second = reconcile({personal_, secure_}, restarted, DomainFlavor::test_driver());
    ASSERT_TRUE(second.ok());
    EXPECT_EQ(second.personas[0].action, ReconcileAction::AlreadyRunning);
    EXPECT_EQ(second.personas[1].action, ReconcileAction::AlreadyRunning);
    EXPECT_EQ(second.personas[1].domid, domid_before) << "the running domain must not be recreated";
}

TEST_F(ReconcileTest, StoppedPersonaIsRedefinedAndStarted) {
    ASSERT_TRUE(reconcile({personal_}, libvirt_, DomainFlavor::test_driver()).ok());
    libvirt_.lookup(personal_.name)->destroy();
    personal_.memory_mib = 384;
    const auto report = reconcile({personal_}, libvirt_, DomainFlavor::test_driver());
    ASSERT_TRUE(report.ok()) << report.personas[0].detail;
    EXPECT_EQ(report.personas[0].action, ReconcileAction::Started);
    EXPECT_NE(libvirt_.lookup(personal_.name)->xml().find("393216"), std::string::npos) << "new memory size applied";
}

TEST_F(ReconcileTest, FailureOfOnePersonaDoesNotStopTheOther) {
    PersonaSpec broken = personal_;
    broken.memory_mib = 0; // libvirt refuses a domain without memory
    const auto report = reconcile({broken, secure_}, libvirt_, DomainFlavor::test_driver());
    EXPECT_FALSE(report.ok());
    EXPECT_EQ(report.personas[0].action, ReconcileAction::Failed);
    EXPECT_FALSE(report.personas[0].detail.empty());
    EXPECT_EQ(report.personas[1].action, ReconcileAction::DefinedAndStarted);
}

TEST_F(ReconcileTest, DomainsOutsidePolicyAreReportedNotTouched) {
    const auto report = reconcile({personal_}, libvirt_, DomainFlavor::test_driver());
    // The test driver ships a domain called "test".
    EXPECT_NE(std::find(report.unmanaged.begin(), report.unmanaged.end(), "test"), report.unmanaged.end());
    EXPECT_EQ(libvirt_.lookup("test")->info().state, DomainState::Running);
}

TEST_F(ReconcileTest, DevicesHookRunsOncePerStartedPersonaWithItsDomid) {
    std::vector<std::pair<std::string, int>> seen;
    const auto record = [&](const std::string& persona, int domid) { seen.emplace_back(persona, domid); };
    const auto first = reconcile({personal_, secure_}, libvirt_, DomainFlavor::test_driver(), record);
    ASSERT_TRUE(first.ok());
    ASSERT_EQ(seen.size(), 2u);
    EXPECT_EQ(seen[0], std::make_pair(personal_.name, first.personas[0].domid));
    EXPECT_EQ(seen[1], std::make_pair(secure_.name, first.personas[1].domid));
    seen.clear();
    ASSERT_TRUE(reconcile({personal_, secure_}, libvirt_, DomainFlavor::test_driver(), record).ok());
    EXPECT_TRUE(seen.empty()) << "running personas keep their devices: the hook is not run again";
}

// Records the calls a reconcile makes; libvirt's test driver cannot start a domain paused.
class RecordingControl : public DomainControl {
public:
    std::vector<std::string> calls;
    bool fail_resume = false;

    std::vector<DomainInfo> list_domains() override { return {}; }
    std::optional<DomainInfo> find(const std::string& name) override {
        if (!defined_) return std::nullopt;
        return DomainInfo{name, state_, state_ == DomainState::ShutOff ? -1 : 7, true};
    }
    DomainInfo define_xml(const std::string&) override {
        calls.emplace_back("define");
        defined_ = true;
        return DomainInfo{"p", DomainState::ShutOff, -1, true};
    }
    void start(const std::string&) override { calls.emplace_back("start"); state_ = DomainState::Running; }
    void start_paused(const std::string&) override { calls.emplace_back("start-paused"); state_ = DomainState::Paused; }
    void resume(const std::string&) override {
        calls.emplace_back("resume");
        if (fail_resume) throw LibvirtError("cannot resume domain 'p': internal error");
        state_ = DomainState::Running;
    }
    void shutdown(const std::string&) override {}
    void destroy(const std::string&) override {}
    void undefine(const std::string&) override {}
    std::string xml(const std::string&) override { return {}; }
    std::string uuid(const std::string&) override { return {}; }
    DomainControlStatus status() const override { return {}; }
    DomainState state() const { return state_; }

private:
    bool defined_ = false;
    DomainState state_ = DomainState::ShutOff;
};

TEST(ReconcileOnXen, DevicesArePlumbedWhileTheNewDomainIsPausedThenItRuns) {
    RecordingControl control;
    std::vector<DomainState> state_in_hook;
    const PersonaSpec persona{"p", "personal", 256, 1, "/k", "/i", "console=hvc0", {}, {}, {}};
    const auto report = reconcile({persona}, control, DomainFlavor::xen_arm(), [&](const std::string&, int domid) {
        control.calls.push_back("devices for domid " + std::to_string(domid));
        state_in_hook.push_back(control.state());
    });
    ASSERT_TRUE(report.ok()) << report.personas[0].detail;
    EXPECT_EQ(control.calls, (std::vector<std::string>{"define", "start-paused", "devices for domid 7", "resume"}));
    EXPECT_EQ(state_in_hook, std::vector<DomainState>{DomainState::Paused});
    EXPECT_EQ(control.state(), DomainState::Running);
}

TEST(ReconcileOnXen, APersonaThatCannotBeResumedIsReportedFailed) {
    RecordingControl control;
    control.fail_resume = true;
    const PersonaSpec persona{"p", "personal", 256, 1, "/k", "/i", "console=hvc0", {}, {}, {}};
    const auto report = reconcile({persona}, control, DomainFlavor::xen_arm(), [](const std::string&, int) {});
    ASSERT_EQ(report.personas.size(), 1u);
    EXPECT_EQ(report.personas[0].action, ReconcileAction::Failed);
    EXPECT_NE(report.personas[0].detail.find("cannot resume"), std::string::npos);
}

TEST(DomainXml, XenArmFlavorUsesXenpvMachineAndEscapesText) {
    PersonaSpec p{"secure", "secure", 256, 2, "/boot/Image", "/boot/initrd", "root=/dev/xvda a<b&c", {{"/d'isk", "xvda", true}}, {}, {}};
    const auto xml = make_domain_xml(p, DomainFlavor::xen_arm());
    EXPECT_NE(xml.find("<type arch='aarch64' machine='xenpv'>xen</type>"), std::string::npos);
    EXPECT_NE(xml.find("root=/dev/xvda a&lt;b&amp;c"), std::string::npos);
    EXPECT_NE(xml.find("/d&apos;isk"), std::string::npos);
    EXPECT_NE(xml.find("<readonly/>"), std::string::npos);
    EXPECT_NE(xml.find("<driver name='phy'/>"), std::string::npos); // blkback, not QEMU's qdisk
    EXPECT_NE(xml.find("<on_crash>destroy</on_crash>"), std::string::npos);
}

} // namespace
} // namespace twofold::manager
