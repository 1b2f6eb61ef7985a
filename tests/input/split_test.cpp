// The input owner and one vkbd writer per persona, as the manager runs them (issue 14 item 2),
// on the loopback: the owner holds the devices and no Xen handle; each writer serves one
// persona's xen-kbdfront through a platform restricted to that persona's domain, its xenstore
// gated to that domain's paths, as the manager's proxy admits them. The links are the
// SOCK_SEQPACKET pairs the manager makes and keeps.
#include <sys/socket.h>
#include <unistd.h>

#include <linux/input-event-codes.h>

#include <gtest/gtest.h>
#include <spdlog/sinks/null_sink.h>

#include "fake_source.h"
#include "kbdfront.h"
#include "twofold/input/input_owner.h"
#include "twofold/input/vkbd_writer.h"
#include "twofold/xenbus/xenstore_gate.h"

namespace twofold::input {
namespace {

using testing::FakeDevice;
using testing::KbdFront;
using testing::key;
using testing::keys_of;
using testing::syn;
using Keys = std::vector<std::pair<std::uint32_t, bool>>;

std::shared_ptr<spdlog::logger> quiet() {
    return std::make_shared<spdlog::logger>("test", std::make_shared<spdlog::sinks::null_sink_mt>());
}

// dom0's platform as a per-persona writer gets it on the board: Xen handles that restrict_to
// confines, and a xenstore that admits only its persona's vkbd paths (the manager's proxy).
class WriterPlatform final : public xen::Platform {
public:
    WriterPlatform(loopback::Hypervisor& hv, xen::DomId frontend)
        : handles_(hv.platform(xen::kDom0)), store_source_(hv.platform(xen::kDom0)), frontend_(frontend) {}
    [[nodiscard]] xen::DomId own_domid() const override { return xen::kDom0; }
    std::unique_ptr<xen::XenStore> open_xenstore() override {
        return std::make_unique<xenbus::XenStoreGate>(store_source_->open_xenstore(),
                                                      xenbus::GateScope{xen::kDom0, frontend_, xenbus::DeviceType::Vkbd});
    }
    std::unique_ptr<xen::EventChannel> open_event_channel() override { return handles_->open_event_channel(); }
    std::unique_ptr<xen::GrantMapper> open_grant_mapper() override { return handles_->open_grant_mapper(); }
    std::unique_ptr<xen::ForeignMemory> open_foreign_memory() override { return handles_->open_foreign_memory(); }
    void restrict_to(xen::DomId domid) override { handles_->restrict_to(domid); }
    [[nodiscard]] std::optional<xen::DomId> restricted_to() const override { return handles_->restricted_to(); }

private:
    std::unique_ptr<xen::Platform> handles_;
    std::unique_ptr<xen::Platform> store_source_;
    xen::DomId frontend_;
};

struct LinkPair {
    xen::UniqueFd owner;
    xen::UniqueFd writer;
};
LinkPair make_link() {
    int fds[2];
    if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) != 0) throw std::runtime_error("socketpair");
    return {xen::UniqueFd(fds[0]), xen::UniqueFd(fds[1])};
}
xen::UniqueFd dup_fd(const xen::UniqueFd& fd) { return xen::UniqueFd(::fcntl(fd.get(), F_DUPFD_CLOEXEC, 0)); }

class SplitInputTest : public ::testing::Test {
protected:
    loopback::Hypervisor hv;
    xenbus::testing::Toolstack toolstack{hv};
    KbdFront personal{hv, toolstack, "personal"};
    KbdFront secure{hv, toolstack, "secure"};
    LinkPair personal_link = make_link();
    LinkPair secure_link = make_link();
    std::vector<focus::AuditEvent> audits;
    FakeDevice keyboard{testing::keyboard()};
    std::unique_ptr<InputOwner> owner;
    std::unique_ptr<WriterPlatform> personal_platform;
    std::unique_ptr<WriterPlatform> secure_platform;
    std::unique_ptr<VkbdWriter> personal_writer;
    std::unique_ptr<VkbdWriter> secure_writer;

    const std::vector<PersonaConfig> personas{{"personal", Trust::Personal}, {"secure", Trust::Secure}};

    void SetUp() override {
        start_owner();
        personal_writer = start_writer(personal_platform, personas[0], personal.domid(), personal_link);
        secure_writer = start_writer(secure_platform, personas[1], secure.domid(), secure_link);
    }
    void TearDown() override {
        personal_writer.reset();
        secure_writer.reset();
        owner.reset();
    }

    void start_owner() {
        std::vector<std::pair<std::string, xen::UniqueFd>> links;
        links.emplace_back("personal", dup_fd(personal_link.owner));
        links.emplace_back("secure", dup_fd(secure_link.owner));
        owner = std::make_unique<InputOwner>(InputOwnerConfig{personas, GuestResolution{800, 600, 5}, KEY_POWER},
                                             std::move(links), quiet());
        owner->add_source(keyboard.make_source());
        owner->start();
    }
    // As twofold-vkbd-backend does: handles open, then restricted to the persona's domain.
    std::unique_ptr<VkbdWriter> start_writer(std::unique_ptr<WriterPlatform>& platform, const PersonaConfig& persona,
                                             xen::DomId domid, const LinkPair& link) {
        platform = std::make_unique<WriterPlatform>(hv, domid);
        auto writer = std::make_unique<VkbdWriter>(*platform, VkbdWriterConfig{persona, domid, GuestResolution{800, 600, 5}},
                                                   dup_fd(link.writer), quiet(),
                                                   [this](const focus::AuditEvent& event) { audits.push_back(event); });
        platform->restrict_to(domid);
        writer->start();
        return writer;
    }

    void turn() {
        for (boost::asio::io_context* io : {&owner->io(), personal_writer ? &personal_writer->io() : nullptr,
                                            secure_writer ? &secure_writer->io() : nullptr}) {
            if (!io) continue;
            if (io->stopped()) io->restart();
            io->run_for(std::chrono::milliseconds(1));
        }
    }
    bool run_until(const std::function<bool()>& predicate, std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        while (!predicate()) {
            if (std::chrono::steady_clock::now() >= deadline) return false;
            turn();
        }
        return true;
    }
    void settle() {
        const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(60);
        (void)run_until([&] { return std::chrono::steady_clock::now() > until; });
    }
    bool connect(KbdFront& guest, PersonaId persona) {
        guest.start();
        if (!run_until([&] { return guest.backend_state() == "4"; })) return false;
        guest.set_connected();
        return run_until([&] { return owner->router().attached(persona); });
    }
    void focus_on(const std::optional<std::string>& persona, std::uint64_t epoch) {
        ASSERT_TRUE(std::holds_alternative<focus::Ack>(owner->apply_focus(focus::Focus{persona, epoch})));
    }
    void type(std::uint16_t code, std::int32_t value) { keyboard.inject({key(code, value), syn()}); }
    Keys keys_after(KbdFront& guest, std::size_t expected) {
        Keys got;
        (void)run_until([&] {
            const auto more = keys_of(guest.take_events());
            got.insert(got.end(), more.begin(), more.end());
            return got.size() >= expected;
        }, std::chrono::seconds(2));
        settle();
        const auto late = keys_of(guest.take_events());
        got.insert(got.end(), late.begin(), late.end());
        return got;
    }
};

TEST_F(SplitInputTest, KeysReachOnlyTheForegroundPersonaThroughItsOwnWriter) {
    ASSERT_TRUE(connect(personal, 0));
    ASSERT_TRUE(connect(secure, 1));
    focus_on("personal", 1);
    type(KEY_A, 1);
    type(KEY_A, 0);
    EXPECT_EQ(keys_after(personal, 2), (Keys{{KEY_A, true}, {KEY_A, false}}));
    EXPECT_TRUE(keys_of(secure.take_events()).empty());

    focus_on(std::nullopt, 2);
    focus_on("secure", 3);
    type(KEY_B, 1);
    type(KEY_B, 0);
    EXPECT_EQ(keys_after(secure, 2), (Keys{{KEY_B, true}, {KEY_B, false}}));
    EXPECT_TRUE(keys_of(personal.take_events()).empty());
    EXPECT_EQ(owner->router().counters().delivered, 4U);
}

TEST_F(SplitInputTest, AKeyHeldAcrossASwitchIsReleasedInTheOldPersonaOnly) {
    ASSERT_TRUE(connect(personal, 0));
    ASSERT_TRUE(connect(secure, 1));
    focus_on("personal", 1);
    type(KEY_LEFTSHIFT, 1);
    EXPECT_EQ(keys_after(personal, 1), (Keys{{KEY_LEFTSHIFT, true}}));
    focus_on(std::nullopt, 2);
    focus_on("secure", 3);
    EXPECT_EQ(keys_after(personal, 1), (Keys{{KEY_LEFTSHIFT, false}}));
    type(KEY_LEFTSHIFT, 0); // its release is for a key secure never saw pressed
    type(KEY_X, 1);
    EXPECT_EQ(keys_after(secure, 1), (Keys{{KEY_X, true}}));
    EXPECT_TRUE(keys_of(personal.take_events()).empty());
}

TEST_F(SplitInputTest, TheSwitchKeyReachesNoWriter) {
    ASSERT_TRUE(connect(personal, 0));
    focus_on("personal", 1);
    type(KEY_POWER, 1);
    type(KEY_POWER, 0);
    type(KEY_C, 1);
    EXPECT_EQ(keys_after(personal, 1), (Keys{{KEY_C, true}}));
}

TEST_F(SplitInputTest, AWriterServesOnlyItsOwnPersonasDomain) {
    // The personal writer is told the secure domain's id is not its own: its gated xenstore
    // does not even show secure's entry, and its restricted handles could not map it.
    ASSERT_TRUE(connect(secure, 1));
    EXPECT_EQ(personal_writer->service().connection_count(), 0U);
    EXPECT_EQ(secure_writer->service().connection_count(), 1U);
    EXPECT_FALSE(owner->router().attached(0));
}

TEST_F(SplitInputTest, AWriterPointedAtTheOtherPersonasDomainRefusesIt) {
    // A writer whose name and domid disagree (a wrong --domid): the domain's dom0-owned name
    // is not its persona, so no device is made and the refusal is audited.
    secure_writer.reset();
    secure_writer = start_writer(secure_platform, personas[0], secure.domid(), secure_link);
    secure.start();
    settle();
    settle();
    EXPECT_NE(secure.backend_state(), "4");
    ASSERT_FALSE(audits.empty());
    EXPECT_EQ(audits.back().event, "input.refused-frontend");
}

TEST_F(SplitInputTest, ARestartedWriterIsDetachedThenAttachedAgainWithoutTouchingTheOther) {
    ASSERT_TRUE(connect(personal, 0));
    ASSERT_TRUE(connect(secure, 1));
    focus_on("secure", 1);
    personal_writer.reset(); // its process died; the manager keeps the link and starts another
    personal_writer = start_writer(personal_platform, personas[0], personal.domid(), personal_link);
    ASSERT_TRUE(run_until([&] { return !owner->router().attached(0) || owner->writer(0).counters().messages_sent > 0; }));
    type(KEY_S, 1);
    EXPECT_EQ(keys_after(secure, 1), (Keys{{KEY_S, true}}));
    EXPECT_TRUE(owner->router().attached(1));
}

TEST_F(SplitInputTest, ARestartedOwnerLearnsWhichWritersAreConnected) {
    ASSERT_TRUE(connect(personal, 0));
    owner.reset();
    start_owner();
    ASSERT_TRUE(run_until([&] { return owner->router().attached(0); }));
    EXPECT_FALSE(owner->router().attached(1));
    focus_on("personal", 5);
    type(KEY_P, 1);
    EXPECT_EQ(keys_after(personal, 1), (Keys{{KEY_P, true}}));
}

TEST_F(SplitInputTest, AHostileWriterCostsOnlyItsOwnPersonasInput) {
    ASSERT_TRUE(connect(personal, 0));
    ASSERT_TRUE(connect(secure, 1));
    // Taken over: the personal writer's socket sends garbage, and claims to be connected.
    const std::vector<std::vector<std::uint8_t>> junk{{}, {0x09}, {0x03, 0x07}, {0x04, 0x00}, std::vector<std::uint8_t>(4000, 0x01)};
    for (const auto& message : junk) {
        (void)::send(personal_link.writer.get(), message.data(), message.size(), MSG_DONTWAIT);
    }
    ASSERT_TRUE(run_until([&] { return owner->writer(0).counters().bad_messages >= 3; }));
    EXPECT_TRUE(owner->router().attached(1));
    focus_on("secure", 1);
    type(KEY_Z, 1);
    EXPECT_EQ(keys_after(secure, 1), (Keys{{KEY_Z, true}}));
}

TEST_F(SplitInputTest, AGuestThatStopsConsumingCostsABoundedQueueAndNothingElse) {
    ASSERT_TRUE(connect(personal, 0));
    ASSERT_TRUE(connect(secure, 1));
    focus_on("personal", 1);
    for (int i = 0; i < 400; ++i) {
        type(KEY_A, 1);
        type(KEY_A, 0);
        if (i % 20 == 0) turn();
    }
    settle();
    settle();
    const auto& counters = personal_writer->owner().counters();
    EXPECT_GT(counters.dropped_queue_full, 0U);
    EXPECT_LE(personal_writer->owner().queued(), kMaxQueuedForGuest);
    // The ring drains: the queue goes in, and the owner keeps routing.
    (void)personal.take_events();
    personal.notify();
    settle();
    focus_on(std::nullopt, 2);
    focus_on("secure", 3);
    type(KEY_Q, 1);
    EXPECT_EQ(keys_after(secure, 1), (Keys{{KEY_Q, true}}));
}

TEST_F(SplitInputTest, TheOwnerRefusesLinksThatDoNotMatchThePersonas) {
    std::vector<std::pair<std::string, xen::UniqueFd>> only_one;
    only_one.emplace_back("personal", dup_fd(personal_link.owner));
    EXPECT_THROW(InputOwner(InputOwnerConfig{personas, GuestResolution{}, KEY_POWER}, std::move(only_one), quiet()),
                 std::invalid_argument);
    std::vector<std::pair<std::string, xen::UniqueFd>> stranger;
    stranger.emplace_back("personal", dup_fd(personal_link.owner));
    stranger.emplace_back("stranger", dup_fd(secure_link.owner));
    EXPECT_THROW(InputOwner(InputOwnerConfig{personas, GuestResolution{}, KEY_POWER}, std::move(stranger), quiet()),
                 std::invalid_argument);
}

} // namespace
} // namespace twofold::input
