// The manager end to end on the host: a real policy (the shipped one, with unique persona
// names), libvirt's real test driver, the loopback xenstore for PV plumbing, a real control
// socket and a real audit log, verified afterwards.
#include "twofold/manager/libvirt.h"
#include "twofold/manager/manager.h"

#include <gtest/gtest.h>

#include <libvirt/virterror.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <future>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>

#include "twofold/audit/sink.h"
#include "twofold/audit/verifier.h"
#include "twofold/loopback/hypervisor.h"
#include "twofold/manager/pv_devices.h"
#include "twofold/manager/xenstore_permission_guard.h"
#include "twofold/policy/checker.h"

#ifndef TWOFOLD_SOURCE_DIR
#error "TWOFOLD_SOURCE_DIR must point at the repository"
#endif

namespace twofold::manager {
namespace {

namespace asio = boost::asio;
using nlohmann::json;

void quiet(void*, virErrorPtr) {}

std::string replace_all(std::string text, const std::string& from, const std::string& to) {
    for (auto pos = text.find(from); pos != std::string::npos; pos = text.find(from, pos + to.size())) {
        text.replace(pos, from.size(), to);
    }
    return text;
}

class ManagerTest : public ::testing::Test {
protected:
    void SetUp() override {
        virSetErrorFunc(nullptr, quiet);
        static int counter = 0;
        const std::string tag = "t" + std::to_string(::getpid() % 10000) + "x" + std::to_string(++counter);
        dir_ = std::filesystem::temp_directory_path() / ("twofold-manager-" + tag);
        std::filesystem::remove_all(dir_);
        std::filesystem::create_directories(dir_);
        std::ofstream(dir_ / "volume-open").close(); // the secure volume is open unless a test says not
        personal_ = tag + "-personal";
        secure_ = tag + "-secure";
        std::ifstream in(std::string(TWOFOLD_SOURCE_DIR) + "/policy/personas.toml");
        std::stringstream text;
        text << in.rdbuf();
        // Unique names: the libvirt test driver's state lives as long as the test process.
        std::string policy_text = replace_all(text.str(), "name = \"personal\"", "name = \"" + personal_ + "\"");
        policy_text = replace_all(policy_text, "name = \"secure\"", "name = \"" + secure_ + "\"");
        policy_text = replace_all(policy_text, "default_foreground = \"personal\"", "default_foreground = \"" + personal_ + "\"");
        policy_text = replace_all(policy_text, "to = \"secure\"", "to = \"" + secure_ + "\"");
        auto loaded = policy::load_and_check_policy(policy_text, "personas.toml", policy::CheckOptions{false});
        for (const auto& f : loaded.findings) {
            ASSERT_NE(f.severity, policy::Severity::error) << f.message;
        }
        policy_ = *loaded.policy;
        key_ = std::make_unique<audit::SigningKey>(audit::SigningKey::generate());
    }

    void TearDown() override {
        stop();
        std::filesystem::remove_all(dir_);
    }

    ManagerOptions options() const {
        ManagerOptions o;
        o.libvirt_uri = "test:///default";
        o.flavor = DomainFlavor::test_driver();
        o.control_socket = dir_ / "control.sock";
        o.state_dir = dir_ / "state";
        o.use_hardware_key = false;
        o.supervise_every = std::chrono::hours(1); // tests drive supervise() themselves
        o.backends = backends_;
        // The policy's secure persona has an encrypted disk: "open" once the fake keystore
        // below (or the test) creates this file.
        o.block_device_present = [flag = dir_ / "volume-open"](const std::string&) { return std::filesystem::exists(flag); };
        o.keystore.program = (dir_ / "fake-keystore").string();
        return o;
    }
    // Stands in for twofold-keystore (tested against a TPM in tests/keystore): PIN 24681357 opens
    // (eight digits: a four-digit PIN turns up by chance in the audit log's hex digests).
    void write_fake_keystore() const {
        const auto path = dir_ / "fake-keystore";
        std::ofstream(path) << "#!/bin/sh\n"
                               "for a; do verb=$a; done\n"
                               "read -r pin\n"
                               "echo \"$*\" >>" << (dir_ / "keystore-calls").string() << "\n"
                               // A slow keystore (argon2id on a board) holds until the test releases it.
                               "if [ -e " << (dir_ / "slow").string() << " ]; then\n"
                               "  i=0; while [ ! -e " << (dir_ / "release").string() << " ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done\n"
                               "  echo \"finished $verb\" >>" << (dir_ / "keystore-calls").string() << "\n"
                               "fi\n"
                               "case $verb in\n"
                               "unlock) if [ \"$pin\" = 24681357 ]; then touch " << (dir_ / "volume-open").string() << "\n"
                               "  echo '{\"outcome\":\"ok\",\"attempts_left\":5,\"changed_pcrs\":[],\"detail\":\"unlocked\"}'\n"
                               "  else echo '{\"outcome\":\"wrong-pin\",\"attempts_left\":4,\"changed_pcrs\":[],\"detail\":\"wrong PIN\"}'; exit 3; fi ;;\n"
                               "status) echo '{\"provisioned\":true,\"unlocked\":false,\"attempts_left\":5,\"changed_pcrs\":[],\"detail\":\"sealed\"}' ;;\n"
                               "*) echo '{\"outcome\":\"ok\",\"attempts_left\":5,\"changed_pcrs\":[],\"detail\":\"done\"}' ;;\n"
                               "esac\n";
        std::filesystem::permissions(path, std::filesystem::perms::owner_all);
    }

    // Starts a manager (as after boot, or after `kill -9` of the previous one) on its own
    // thread's io_context, like the daemon.
    void start_manager() {
        auto writer = audit::Writer::open(std::make_unique<audit::PosixLogStore>(dir_ / "audit"),
                                          audit::SigningKey::from_pem(key_->private_pem()), audit::WriterConfig{});
        io_ = std::make_unique<asio::io_context>();
        manager_ = std::make_unique<Manager>(*io_, policy_, options(), std::make_unique<LibvirtConnection>("test:///default"),
                                             hv_.platform(xen::kDom0)->open_xenstore(), std::move(writer));
        ASSERT_TRUE(manager_->start());
        thread_ = std::thread([this] { io_->run(); });
    }

    void stop() {
        if (!io_) {
            return;
        }
        on_manager([this] { manager_.reset(); }); // the manager lives and dies on its own thread
        io_->stop();
        thread_.join();
        io_.reset();
    }

    // Runs f on the manager's thread and waits: the manager is single-threaded by design.
    template <typename F>
    void on_manager(F f) {
        std::promise<void> done;
        asio::post(*io_, [&] {
            f();
            done.set_value();
        });
        done.get_future().wait();
    }

    json call(const std::string& line) {
        asio::io_context client;
        asio::local::stream_protocol::socket s(client);
        s.connect(asio::local::stream_protocol::endpoint((dir_ / "control.sock").string()));
        asio::write(s, asio::buffer(line + "\n"));
        asio::streambuf buf;
        const auto n = asio::read_until(s, buf, '\n');
        return json::parse(std::string(asio::buffers_begin(buf.data()), asio::buffers_begin(buf.data()) + static_cast<std::ptrdiff_t>(n)));
    }

    // The personas' domains, as the running manager reports them.
    std::vector<xen::DomId> persona_domids() {
        std::vector<xen::DomId> domids;
        const json status = call(R"({"version":1,"id":1,"command":"status"})");
        for (const auto& p : status["result"]["personas"]) {
            domids.push_back(static_cast<xen::DomId>(p["domid"].get<int>()));
        }
        return domids;
    }
    // Whether the manager plumbed this device, served by dom0, for the domain in xenstore.
    bool plumbed(xen::DomId domid, PvDeviceType type, std::uint32_t devid) {
        auto store = hv_.platform(xen::kDom0)->open_xenstore();
        return PvDevicePlumber(*store).plumbed(domid, {type, devid, xen::kDom0, {}});
    }

    audit::VerifyReport verify_audit() {
        audit::VerifyOptions opts;
        opts.public_key = audit::VerifyKey::from_pem(key_->public_pem());
        return audit::verify({dir_ / "audit"}, opts);
    }

    // libvirtd outlives the manager on the board; the test driver's state lives as long as one
    // connection is open, so this one plays libvirtd.
    LibvirtConnection libvirtd_{"test:///default"};
    std::filesystem::path dir_;
    std::string personal_;
    std::string secure_;
    policy::Policy policy_;
    std::vector<BackendConfig> backends_;
    // A configured backend that stays quiet (it never says hello, so it holds nothing): these
    // tests look only at which devices the manager offers the guests. One that exited at once
    // would send SIGCHLDs into the test's blocking socket reads.
    static BackendConfig idle_backend(const char* name) {
        BackendConfig b;
        b.name = name;
        b.command = {"/bin/sh", "-c", "exec sleep 60", name}; // ignores the --focus-fd/--user it is given
        b.after_personas = true;
        return b;
    }
    std::unique_ptr<audit::SigningKey> key_;
    loopback::Hypervisor hv_;
    std::unique_ptr<asio::io_context> io_;
    std::unique_ptr<Manager> manager_;
    std::thread thread_;
};

TEST_F(ManagerTest, StartsBothPersonasThroughLibvirtAndReportsThem) {
    start_manager();
    const auto status = call(R"({"version":1,"id":1,"command":"status"})");
    ASSERT_TRUE(status["ok"].get<bool>()) << status.dump();
    EXPECT_EQ(status["result"]["foreground"], personal_);
    ASSERT_EQ(status["result"]["personas"].size(), 2u);
    for (const auto& p : status["result"]["personas"]) {
        EXPECT_EQ(p["state"], "running") << p.dump();
    }
}

TEST_F(ManagerTest, PlumbsDisplayInputAndModemDevicesInXenstore) {
    for (const char* name : {"display", "input", "modem"}) backends_.push_back(idle_backend(name));
    start_manager();
    for (const auto domid : persona_domids()) {
        EXPECT_TRUE(plumbed(domid, PvDeviceType::Vfb, 0)) << "domid " << domid;
        EXPECT_TRUE(plumbed(domid, PvDeviceType::Vkbd, 0));
        EXPECT_TRUE(plumbed(domid, PvDeviceType::Console, 1));
    }
}

// A per_persona backend: the manager runs one instance per persona of the policy, each told
// that persona's name and kind (from the policy) and its domain's domid.
TEST_F(ManagerTest, PerPersonaBackendGetsAnInstancePerPersonaWithItsKindAndDomid) {
    BackendConfig input;
    input.name = "input";
    input.command = {"/bin/sh", "-c", "echo \"$*\" >>" + (dir_ / "argv").string() + "; exec sleep 60", "input"};
    input.per_persona = true;
    backends_.push_back(input);
    start_manager();
    const auto status = call(R"({"version":1,"id":1,"command":"status"})")["result"];
    std::map<std::string, xen::DomId> domid;
    for (const auto& p : status["personas"]) domid[p["name"].get<std::string>()] = static_cast<xen::DomId>(p["domid"].get<int>());
    ASSERT_EQ(domid.size(), 2u) << status.dump();
    std::string argv;
    for (int i = 0; i < 500 && std::count(argv.begin(), argv.end(), '\n') < 2; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
        std::ifstream in(dir_ / "argv");
        argv.assign(std::istreambuf_iterator<char>(in), {});
    }
    EXPECT_NE(argv.find("--user twofold-input-" + personal_ + " --persona " + personal_ + ":personal --domid " +
                        std::to_string(domid.at(personal_)) + "\n"),
              std::string::npos)
        << argv;
    EXPECT_NE(argv.find("--user twofold-input-" + secure_ + " --persona " + secure_ + ":secure --domid " +
                        std::to_string(domid.at(secure_)) + "\n"),
              std::string::npos)
        << argv;
    std::set<std::string> names;
    for (const auto& b : status["backends"]) names.insert(b["name"].get<std::string>());
    EXPECT_EQ(names, (std::set<std::string>{"input/" + personal_, "input/" + secure_})) << status["backends"].dump();
    for (const auto d : persona_domids()) EXPECT_TRUE(plumbed(d, PvDeviceType::Vkbd, 0)) << "configured(\"input\") holds";
}

// A guest kernel waits at boot for every device it has a driver for: a device without a
// configured backend would only delay it.
TEST_F(ManagerTest, OffersOnlyDevicesWhoseBackendIsConfigured) {
    backends_.push_back(idle_backend("display"));
    start_manager();
    for (const auto domid : persona_domids()) {
        EXPECT_TRUE(plumbed(domid, PvDeviceType::Vfb, 0)) << "domid " << domid;
        EXPECT_FALSE(plumbed(domid, PvDeviceType::Vkbd, 0));
        EXPECT_FALSE(plumbed(domid, PvDeviceType::Console, 1));
    }
}

TEST_F(ManagerTest, SwitchChangesForegroundAndIsAudited) {
    start_manager();
    const auto reply = call(R"({"version":1,"id":2,"command":"switch","args":{"persona":")" + secure_ + R"("}})");
    ASSERT_TRUE(reply["ok"].get<bool>()) << reply.dump();
    EXPECT_EQ(reply["result"]["foreground"], secure_);
    const auto toggle = call(R"({"version":1,"id":3,"command":"switch"})");
    EXPECT_EQ(toggle["result"]["foreground"], personal_);
    stop();
    const auto report = verify_audit();
    EXPECT_TRUE(report.intact()) << report.first_bad->detail;
    EXPECT_GE(report.records, 4u);
    EXPECT_EQ(report.unsealed_records, 0u) << "a stopping manager seals its log";
    EXPECT_TRUE(report.signatures_checked);
}

// docs/messaging.md, "Read markers": the secure persona may read whether it is on screen (its
// messenger sends a read marker only then); the personal persona is not told (it would learn
// when secure is used), and the guest cannot change dom0's value.
TEST_F(ManagerTest, OnlyTheSecurePersonaIsToldWhetherItIsInFront) {
    start_manager();
    const json status = call(R"({"version":1,"id":1,"command":"status"})");
    std::map<std::string, xen::DomId> domid;
    for (const auto& p : status["result"]["personas"]) {
        domid[p["name"].get<std::string>()] = static_cast<xen::DomId>(p["domid"].get<int>());
    }
    ASSERT_EQ(domid.size(), 2u) << status.dump();
    const auto node = [&](const std::string& persona) {
        return "/local/domain/" + std::to_string(domid.at(persona)) + "/twofold/foreground";
    };
    auto dom0 = hv_.platform(xen::kDom0)->open_xenstore();
    // The test driver's domids have no loopback domain: dom0 reads, and the permissions say
    // what the guest may do.
    EXPECT_EQ(dom0->read(node(secure_)), "0") << "personal is in front";
    EXPECT_EQ(dom0->read(node(personal_)), std::nullopt);
    ASSERT_TRUE(call(R"({"version":1,"id":2,"command":"switch","args":{"persona":")" + secure_ + R"("}})")["ok"].get<bool>());
    EXPECT_EQ(dom0->read(node(secure_)), "1");
    ASSERT_TRUE(call(R"({"version":1,"id":3,"command":"switch"})")["ok"].get<bool>());
    EXPECT_EQ(dom0->read(node(secure_)), "0");
    for (const auto& path : {node(secure_), "/local/domain/" + std::to_string(domid.at(secure_)) + "/twofold"}) {
        const auto perms = dom0->get_permissions(path);
        ASSERT_TRUE(perms) << path;
        EXPECT_EQ(describe(*perms), "n0,r" + std::to_string(domid.at(secure_))) << path;
    }
    EXPECT_EQ(dom0->read(node(secure_)), "0");
    EXPECT_EQ(dom0->read(node(personal_)), std::nullopt);
}

TEST_F(ManagerTest, ConcurrentSwitchRequestsAllGetAnAnswerAndEndConsistent) {
    start_manager();
    std::vector<std::thread> clients;
    std::atomic<int> answered{0};
    for (int i = 0; i < 8; ++i) {
        clients.emplace_back([&, i] {
            const auto r = call(R"({"version":1,"id":)" + std::to_string(i) + R"(,"command":"switch"})");
            EXPECT_TRUE(r.contains("ok")) << r.dump();
            ++answered;
        });
    }
    for (auto& t : clients) {
        t.join();
    }
    EXPECT_EQ(answered.load(), 8);
    const auto status = call(R"({"version":1,"id":9,"command":"status"})");
    int in_front = 0;
    for (const auto& p : status["result"]["personas"]) {
        in_front += p["foreground"].get<bool>() ? 1 : 0;
    }
    EXPECT_EQ(in_front, 1) << "exactly one foreground persona";
    EXPECT_TRUE(status["result"]["switching_to"].is_null());
}

TEST_F(ManagerTest, UnknownPersonaSwitchIsRefusedWithCode) {
    start_manager();
    const auto reply = call(R"({"version":1,"id":2,"command":"switch","args":{"persona":"nobody"}})");
    EXPECT_FALSE(reply["ok"].get<bool>());
    EXPECT_EQ(reply["error"]["code"], "unknown-persona");
}

TEST_F(ManagerTest, RestartedManagerRecoversForegroundAndLeavesPersonasRunning) {
    start_manager();
    call(R"({"version":1,"id":2,"command":"switch","args":{"persona":")" + secure_ + R"("}})");
    const auto before = call(R"({"version":1,"id":3,"command":"status"})");
    const auto uuid_before = libvirtd_.lookup(secure_)->uuid();
    stop(); // as if killed: nothing is torn down in libvirt
    start_manager();
    const auto after = call(R"({"version":1,"id":4,"command":"status"})");
    EXPECT_EQ(after["result"]["foreground"], secure_);
    EXPECT_EQ(before["result"]["personas"], after["result"]["personas"]) << "domids and states unchanged";
    EXPECT_EQ(libvirtd_.lookup(secure_)->uuid(), uuid_before);
    stop();
    std::string log;
    for (const auto& f : std::filesystem::directory_iterator(dir_ / "audit")) {
        std::ifstream in(f.path());
        log.append(std::istreambuf_iterator<char>(in), {});
    }
    EXPECT_NE(log.find("persona.recovered"), std::string::npos) << "the second manager found the personas running";
}

TEST_F(ManagerTest, LockedPersonaWaitsForItsPinThenStarts) {
    std::filesystem::remove(dir_ / "volume-open");
    write_fake_keystore();
    start_manager();
    LibvirtConnection libvirt("test:///default");
    auto status = call(R"({"version":1,"id":1,"command":"status"})");
    for (const auto& p : status["result"]["personas"]) {
        EXPECT_EQ(p["locked"], p["name"] == secure_) << p.dump();
        EXPECT_EQ(p["state"] == "running", p["name"] != secure_) << p.dump();
    }
    on_manager([&] { manager_->supervise(); }); // supervision does not burn restarts on it
    auto started = call(R"({"version":1,"id":2,"command":"start","args":{"persona":")" + secure_ + R"("}})");
    EXPECT_FALSE(started["ok"].get<bool>());
    EXPECT_EQ(started["error"]["code"], "locked");
    const auto wrong = call(R"({"version":1,"id":3,"command":"volume-unlock","args":{"persona":")" + secure_ + R"(","pin":"11112222"}})");
    EXPECT_FALSE(wrong["ok"].get<bool>());
    EXPECT_EQ(wrong["error"]["code"], "wrong-pin");
    EXPECT_NE(wrong["error"]["message"].get<std::string>().find("(4 tries left)"), std::string::npos) << wrong.dump();
    const auto right = call(R"({"version":1,"id":4,"command":"volume-unlock","args":{"persona":")" + secure_ + R"(","pin":"24681357"}})");
    ASSERT_TRUE(right["ok"].get<bool>()) << right.dump();
    EXPECT_EQ(right["result"]["state"], "running");
    EXPECT_EQ(libvirt.lookup(secure_)->info().state, DomainState::Running);
    // The domain gets dom0's plaintext mapping of the volume, never the encrypted file.
    EXPECT_NE(libvirt.xml(secure_).find("/dev/mapper/twofold-" + secure_ + "-xvdb"), std::string::npos);
    stop();
    std::string log;
    for (const auto& f : std::filesystem::directory_iterator(dir_ / "audit")) {
        std::ifstream in(f.path());
        log.append(std::istreambuf_iterator<char>(in), {});
    }
    EXPECT_NE(log.find("persona.locked"), std::string::npos);
    EXPECT_NE(log.find("volume.unlock"), std::string::npos);
    EXPECT_NE(log.find("wrong-pin"), std::string::npos);
    {
        // The policy's pin_retries (3 in policy/personas.toml) is the limit the keystore enforces.
        std::ifstream in(dir_ / "keystore-calls");
        const std::string calls(std::istreambuf_iterator<char>(in), {});
        EXPECT_NE(calls.find("--retry-limit 3 "), std::string::npos) << calls;
    }
    EXPECT_EQ(log.find("24681357"), std::string::npos) << "a PIN in the audit log";
    EXPECT_EQ(log.find("11112222"), std::string::npos) << "a PIN in the audit log";
}

// argon2id and TPM round trips take seconds on a board: the manager keeps serving (a switch,
// a status) while the keystore works, and refuses a second volume request meanwhile.
TEST_F(ManagerTest, ManagerServesWhileTheKeystoreWorks) {
    std::filesystem::remove(dir_ / "volume-open");
    write_fake_keystore();
    std::ofstream(dir_ / "slow").close();
    start_manager();
    json unlocked;
    std::thread unlocker([&] {
        unlocked = call(R"({"version":1,"id":1,"command":"volume-unlock","args":{"persona":")" + secure_ + R"(","pin":"24681357"}})");
    });
    // The unlock is on the keystore (its calls file names it) before the other requests go in.
    for (int i = 0; i < 200 && !std::filesystem::exists(dir_ / "keystore-calls"); ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    const auto status = call(R"({"version":1,"id":2,"command":"status"})");
    EXPECT_TRUE(status["ok"].get<bool>());
    const auto calls = [&] {
        std::ifstream in(dir_ / "keystore-calls");
        return std::string(std::istreambuf_iterator<char>(in), {});
    };
    EXPECT_EQ(calls().find("finished"), std::string::npos) << "status waited for the keystore: " << calls();
    const auto second = call(R"({"version":1,"id":3,"command":"volume-status","args":{"persona":")" + secure_ + R"("}})");
    EXPECT_FALSE(second["ok"].get<bool>());
    EXPECT_EQ(second["error"]["code"], "busy") << second.dump();
    std::ofstream(dir_ / "release").close();
    unlocker.join();
    ASSERT_TRUE(unlocked["ok"].get<bool>()) << unlocked.dump();
    EXPECT_EQ(unlocked["result"]["state"], "running");
    stop();
}

TEST_F(ManagerTest, KilledPersonaIsRestartedBySupervision) {
    start_manager();
    LibvirtConnection libvirt("test:///default");
    libvirt.lookup(secure_)->destroy();
    on_manager([&] { manager_->supervise(); });
    EXPECT_EQ(libvirt.lookup(secure_)->info().state, DomainState::Running);
    const auto status = call(R"({"version":1,"id":1,"command":"status"})");
    for (const auto& p : status["result"]["personas"]) {
        if (p["name"] == secure_) {
            EXPECT_EQ(p["restarts"], 1);
        }
    }
}

TEST_F(ManagerTest, OperatorStopIsNotUndoneBySupervision) {
    start_manager();
    const auto reply = call(R"({"version":1,"id":1,"command":"stop","args":{"persona":")" + personal_ + R"("}})");
    ASSERT_TRUE(reply["ok"].get<bool>()) << reply.dump();
    on_manager([&] { manager_->supervise(); });
    LibvirtConnection libvirt("test:///default");
    EXPECT_NE(libvirt.lookup(personal_)->info().state, DomainState::Running);
    const auto started = call(R"({"version":1,"id":2,"command":"start","args":{"persona":")" + personal_ + R"("}})");
    EXPECT_TRUE(started["ok"].get<bool>()) << started.dump();
    EXPECT_EQ(libvirt.lookup(personal_)->info().state, DomainState::Running);
}

} // namespace
} // namespace twofold::manager
