// The input backend process wiring on the loopback: two simulated xen-kbdfront personas (and
// a stranger), a scripted evdev source, focus orders as the manager sends them, and hostile
// frontends that must cost only themselves.
#include <linux/input-event-codes.h>

#include <gtest/gtest.h>
#include <spdlog/sinks/null_sink.h>

#include "fake_source.h"
#include "kbdfront.h"
#include "twofold/input/input_backend.h"

namespace twofold::input {
namespace {

using testing::abs;
using testing::FakeDevice;
using testing::KbdFront;
using testing::KbdFrontOptions;
using testing::key;
using testing::keys_of;
using testing::syn;

using Keys = std::vector<std::pair<std::uint32_t, bool>>;

class InputBackendTest : public ::testing::Test {
protected:
    loopback::Hypervisor hv;
    xenbus::testing::Toolstack toolstack{hv};
    std::unique_ptr<xen::Platform> dom0 = hv.platform(xen::kDom0);
    std::vector<focus::AuditEvent> audits;
    InputBackend backend{*dom0,
                         InputBackendConfig{{{"personal", Trust::Personal}, {"secure", Trust::Secure}},
                                            GuestResolution{800, 600, 5},
                                            KEY_POWER,
                                            8},
                         std::make_shared<spdlog::logger>("test", std::make_shared<spdlog::sinks::null_sink_mt>()),
                         [this](const focus::AuditEvent& event) { audits.push_back(event); }};
    KbdFront personal{hv, toolstack, "personal"};
    KbdFront secure{hv, toolstack, "secure"};
    FakeDevice keyboard{testing::keyboard()};
    FakeDevice touch{testing::touchscreen()};

    void SetUp() override {
        backend.add_source(keyboard.make_source());
        backend.add_source(touch.make_source());
        backend.start();
    }

    bool run_until(const std::function<bool()>& predicate, std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        while (!predicate()) {
            if (std::chrono::steady_clock::now() >= deadline) return false;
            if (backend.io().stopped()) backend.io().restart();
            backend.io().run_for(std::chrono::milliseconds(2));
        }
        return true;
    }
    void settle() {
        const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(60);
        (void)run_until([&] { return std::chrono::steady_clock::now() > until; });
    }
    bool connect(KbdFront& guest, const KbdFrontOptions& options = {}) {
        guest.start(options);
        const bool ok = run_until([&] { return guest.backend_state() == "4"; });
        if (ok) guest.set_connected();
        settle();
        return ok;
    }
    focus::ToManager focus_on(std::optional<std::string> persona, std::uint64_t epoch) {
        return backend.apply_focus(focus::Focus{std::move(persona), epoch});
    }
    void type(std::uint16_t code, std::int32_t value) { keyboard.inject({key(code, value), syn()}); }
};

TEST_F(InputBackendTest, BackendAdvertisesAbsolutePointerAndMultiTouchAtTheGuestResolution) {
    ASSERT_TRUE(connect(personal));
    EXPECT_EQ(personal.backend_node("feature-abs-pointer"), "1");
    EXPECT_EQ(personal.backend_node("feature-multi-touch"), "1");
    EXPECT_EQ(personal.backend_node("width"), "800");
    EXPECT_EQ(personal.backend_node("height"), "600");
    EXPECT_EQ(personal.backend_node("multi-touch-num-contacts"), "5");
}

TEST_F(InputBackendTest, KeysReachOnlyTheForegroundPersona) {
    ASSERT_TRUE(connect(personal));
    ASSERT_TRUE(connect(secure));
    EXPECT_TRUE(std::holds_alternative<focus::Ack>(focus_on("secure", 1)));
    type(KEY_A, 1);
    type(KEY_A, 0);
    std::vector<xenkbd_in_event> got;
    ASSERT_TRUE(run_until([&] {
        auto more = secure.take_events();
        got.insert(got.end(), more.begin(), more.end());
        return got.size() >= 2;
    }));
    settle();
    EXPECT_EQ(keys_of(got), (Keys{{KEY_A, true}, {KEY_A, false}}));
    EXPECT_TRUE(personal.take_events().empty());
}

TEST_F(InputBackendTest, HeldKeyIsReleasedInTheOldPersonaAtASwitch) {
    ASSERT_TRUE(connect(personal));
    ASSERT_TRUE(connect(secure));
    focus_on("personal", 1);
    type(KEY_LEFTCTRL, 1);
    ASSERT_TRUE(run_until([&] { return personal.unread() == 1; }));
    (void)personal.take_events();
    const auto answer = focus_on("secure", 2);
    // The release is in the old persona's ring when the Ack is produced.
    ASSERT_TRUE(std::holds_alternative<focus::Ack>(answer));
    EXPECT_EQ(std::get<focus::Ack>(answer).epoch, 2U);
    EXPECT_EQ(keys_of(personal.take_events()), (Keys{{KEY_LEFTCTRL, false}}));
    // The physical release after the switch goes nowhere: secure never saw the press.
    type(KEY_LEFTCTRL, 0);
    settle();
    EXPECT_TRUE(secure.take_events().empty());
    EXPECT_TRUE(personal.take_events().empty());
}

// The first phase of a switch: input to nobody. What personal holds is released to it before
// the ack, and every key typed until the next order reaches no persona.
TEST_F(InputBackendTest, FocusToNobodyReleasesHeldKeysAndDeliversToNoPersona) {
    ASSERT_TRUE(connect(personal));
    ASSERT_TRUE(connect(secure));
    focus_on("personal", 1);
    type(KEY_LEFTSHIFT, 1);
    ASSERT_TRUE(run_until([&] { return personal.unread() == 1; }));
    (void)personal.take_events();
    const auto answer = focus_on(std::nullopt, 2);
    ASSERT_TRUE(std::holds_alternative<focus::Ack>(answer));
    EXPECT_EQ(std::get<focus::Ack>(answer).epoch, 2U);
    EXPECT_EQ(keys_of(personal.take_events()), (Keys{{KEY_LEFTSHIFT, false}}));
    ASSERT_FALSE(audits.empty());
    EXPECT_EQ(audits.back().event, "input.focus");
    EXPECT_EQ(audits.back().fields.at("to"), "nobody");
    EXPECT_FALSE(audits.back().fields.contains("persona"));
    EXPECT_EQ(audits.back().fields.at("released-keys"), 1);
    type(KEY_B, 1);
    type(KEY_B, 0);
    type(KEY_LEFTSHIFT, 0);
    settle();
    EXPECT_TRUE(personal.take_events().empty());
    EXPECT_TRUE(secure.take_events().empty());
    // Attach: keys typed from now on reach secure, and only them.
    ASSERT_TRUE(std::holds_alternative<focus::Ack>(focus_on("secure", 3)));
    type(KEY_C, 1);
    type(KEY_C, 0);
    std::vector<xenkbd_in_event> got;
    ASSERT_TRUE(run_until([&] {
        auto more = secure.take_events();
        got.insert(got.end(), more.begin(), more.end());
        return got.size() >= 2;
    }));
    EXPECT_EQ(keys_of(got), (Keys{{KEY_C, true}, {KEY_C, false}}));
    EXPECT_TRUE(personal.take_events().empty());
}

TEST_F(InputBackendTest, HeldTouchIsLiftedInTheOldPersonaAtASwitch) {
    ASSERT_TRUE(connect(personal));
    ASSERT_TRUE(connect(secure));
    focus_on("personal", 1);
    touch.inject({abs(ABS_MT_SLOT, 0), abs(ABS_MT_TRACKING_ID, 7), abs(ABS_MT_POSITION_X, 4095),
                  abs(ABS_MT_POSITION_Y, 4095), syn()});
    ASSERT_TRUE(run_until([&] { return personal.unread() == 2; }));
    const auto down = personal.take_events();
    EXPECT_EQ(down[0].mtouch.event_type, XENKBD_MT_EV_DOWN);
    EXPECT_EQ(down[0].mtouch.u.pos.abs_x, 799);
    EXPECT_EQ(down[0].mtouch.u.pos.abs_y, 599);
    focus_on("secure", 2);
    const auto lifted = personal.take_events();
    ASSERT_EQ(lifted.size(), 2U);
    EXPECT_EQ(lifted[0].type, XENKBD_TYPE_MTOUCH);
    EXPECT_EQ(lifted[0].mtouch.event_type, XENKBD_MT_EV_UP);
    EXPECT_EQ(lifted[1].mtouch.event_type, XENKBD_MT_EV_SYN);
}

TEST_F(InputBackendTest, SwitchKeyReachesNoGuest) {
    ASSERT_TRUE(connect(personal));
    focus_on("personal", 1);
    type(KEY_POWER, 1);
    type(KEY_POWER, 0);
    type(KEY_B, 1);
    std::vector<xenkbd_in_event> got;
    ASSERT_TRUE(run_until([&] {
        auto more = personal.take_events();
        got.insert(got.end(), more.begin(), more.end());
        return !got.empty();
    }));
    EXPECT_EQ(keys_of(got), (Keys{{KEY_B, true}}));
    EXPECT_EQ(backend.router().counters().dropped_switch_key, 2U);
}

TEST_F(InputBackendTest, FocusOnAnUnknownPersonaIsRefused) {
    const auto answer = focus_on("stranger", 9);
    ASSERT_TRUE(std::holds_alternative<focus::Refuse>(answer));
    EXPECT_EQ(std::get<focus::Refuse>(answer).epoch, 9U);
}

TEST_F(InputBackendTest, FullRingDropsAndTheOtherPersonaKeepsInput) {
    ASSERT_TRUE(connect(personal));
    ASSERT_TRUE(connect(secure));
    focus_on("personal", 1);
    // personal never consumes: 51 slots fill, the rest is dropped without stalling anything.
    for (int i = 0; i < 40; ++i) {
        type(KEY_A, 1);
        type(KEY_A, 0);
    }
    ASSERT_TRUE(run_until([&] { return backend.router().counters().dropped_full >= 29; }));
    EXPECT_EQ(personal.unread(), XENKBD_IN_RING_LEN);
    focus_on("secure", 2);
    type(KEY_S, 1);
    ASSERT_TRUE(run_until([&] { return secure.unread() == 1; }));
    EXPECT_EQ(keys_of(secure.take_events()), (Keys{{KEY_S, true}}));
}

TEST_F(InputBackendTest, DomainThatIsNoPersonaIsRefusedAndAudited) {
    KbdFront stranger{hv, toolstack, "stranger"};
    stranger.start();
    settle();
    EXPECT_NE(stranger.backend_state(), "4");
    ASSERT_FALSE(audits.empty());
    EXPECT_EQ(audits.back().event, "input.refused-frontend");
    EXPECT_EQ(hv.live_grant_mappings(), 0U);
}

TEST_F(InputBackendTest, BadPageGrefIsRefusedAndTheOtherPersonaKeepsInput) {
    ASSERT_TRUE(connect(secure));
    KbdFrontOptions bad;
    bad.bad_gref = "4294967296";
    personal.start(bad);
    settle();
    EXPECT_NE(personal.backend_state(), "4");
    focus_on("secure", 1);
    type(KEY_X, 1);
    ASSERT_TRUE(run_until([&] { return secure.unread() == 1; }));
    EXPECT_EQ(hv.live_grant_mappings(), 1U);
}

TEST_F(InputBackendTest, FrontendWithOnlyPageRefIsRefused) {
    KbdFrontOptions old;
    old.publish_gref = false;
    personal.start(old);
    settle();
    EXPECT_NE(personal.backend_state(), "4");
    EXPECT_EQ(hv.live_foreign_mappings(), 0U);
}

TEST_F(InputBackendTest, GarbageRequestFlagIsRefused) {
    KbdFrontOptions garbage;
    garbage.abs_pointer_value = "yes";
    personal.start(garbage);
    settle();
    EXPECT_NE(personal.backend_state(), "4");
    EXPECT_EQ(hv.live_grant_mappings(), 0U);
}

TEST_F(InputBackendTest, GarbageInTheOutRingIsConsumedAndIgnored) {
    ASSERT_TRUE(connect(personal));
    focus_on("personal", 1);
    for (std::uint8_t type = 0; type < 10; ++type) personal.push_out_raw(type);
    personal.notify();
    ASSERT_TRUE(run_until([&] { return personal.out_cons() == 10; }));
    EXPECT_EQ(personal.backend_state(), "4");
    type(KEY_Q, 1);
    ASSERT_TRUE(run_until([&] { return personal.unread() == 1; }));
}

TEST_F(InputBackendTest, OutRingProducerOverflowClosesOnlyThatFrontend) {
    ASSERT_TRUE(connect(personal));
    ASSERT_TRUE(connect(secure));
    personal.set_out_prod(1000);
    personal.notify();
    ASSERT_TRUE(run_until([&] { return personal.backend_state() != "4"; }));
    focus_on("secure", 1);
    type(KEY_Z, 1);
    ASSERT_TRUE(run_until([&] { return secure.unread() == 1; }));
}

TEST_F(InputBackendTest, ImpossibleInRingConsumerStopsInputToThatGuestOnly) {
    ASSERT_TRUE(connect(personal));
    ASSERT_TRUE(connect(secure));
    focus_on("personal", 1);
    personal.set_in_cons(12345);
    type(KEY_A, 1);
    ASSERT_TRUE(run_until([&] { return backend.router().counters().dropped_broken == 1; }));
    personal.notify(); // its next notification closes it
    ASSERT_TRUE(run_until([&] { return personal.backend_state() != "4"; }));
    focus_on("secure", 2);
    type(KEY_B, 1);
    ASSERT_TRUE(run_until([&] { return secure.unread() == 1; }));
}

TEST_F(InputBackendTest, PersonaDestroyedMidStreamLeavesTheOtherWithInput) {
    ASSERT_TRUE(connect(personal));
    ASSERT_TRUE(connect(secure));
    focus_on("personal", 1);
    type(KEY_A, 1);
    ASSERT_TRUE(run_until([&] { return personal.unread() == 1; }));
    personal.release_view();
    hv.destroy_domain(personal.domid());
    ASSERT_TRUE(run_until([&] { return hv.live_grant_mappings() == 1; }));
    type(KEY_A, 0);
    type(KEY_B, 1);
    settle();
    focus_on("secure", 2);
    type(KEY_C, 1);
    ASSERT_TRUE(run_until([&] { return secure.unread() == 1; }));
    EXPECT_EQ(keys_of(secure.take_events()), (Keys{{KEY_C, true}}));
}

TEST_F(InputBackendTest, UnpluggedSourceIsDroppedAndOthersKeepWorking) {
    ASSERT_TRUE(connect(personal));
    focus_on("personal", 1);
    keyboard.unplug();
    ASSERT_TRUE(run_until([&] { return backend.source_count() == 1; }));
    touch.inject({abs(ABS_MT_SLOT, 0), abs(ABS_MT_TRACKING_ID, 1), abs(ABS_MT_POSITION_X, 0), abs(ABS_MT_POSITION_Y, 0), syn()});
    ASSERT_TRUE(run_until([&] { return personal.unread() == 2; }));
}

TEST_F(InputBackendTest, FocusIsAuditedWithWhatWasReleased) {
    ASSERT_TRUE(connect(personal));
    focus_on("personal", 1);
    type(KEY_A, 1);
    ASSERT_TRUE(run_until([&] { return personal.unread() == 1; }));
    focus_on("secure", 2);
    ASSERT_FALSE(audits.empty());
    EXPECT_EQ(audits.back().event, "input.focus");
    EXPECT_EQ(audits.back().fields.at("persona"), "secure");
    EXPECT_EQ(audits.back().fields.at("released-keys"), 1);
}

} // namespace
} // namespace twofold::input
