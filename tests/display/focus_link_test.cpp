// The display backend on the manager's focus link, through a real socketpair: hello first,
// a focus order acked only after the one present that shows the new persona under its
// indicator, refusals for personas it does not serve, audit events, and EOF ending the backend.
#include <sys/socket.h>

#include <sstream>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <spdlog/sinks/null_sink.h>

#include "fbfront.h"
#include "focus_peer.h"
#include "twofold/display/display_backend.h"
#include "twofold/focus/focus_protocol.h"

namespace twofold::display {
namespace {

using testing::FbFront;
using testing::FbMode;
using testing::FocusPeer;
using testing::SocketPair;
using ::testing::HasSubstr;

constexpr std::uint32_t kW = 160;
constexpr std::uint32_t kH = 120;
constexpr std::uint32_t kStrip = 24;
constexpr FbMode kMode{kW, kH - kStrip, kW * 4, kW * 4 * (kH - kStrip)};
constexpr std::uint32_t kPersonalColour = 0x00200000;
constexpr std::uint32_t kSecureColour = 0x00002000;

// A headless target that, at each present, looks (without consuming) at what the backend has
// already sent the manager: an ack already there would have gone out before its frame.
class PeekingTarget final : public DisplayTarget {
public:
    PeekingTarget(std::uint32_t width, std::uint32_t height, const int& manager_fd)
        : inner_(width, height), manager_fd_(manager_fd) {}
    Screen& screen() noexcept override { return inner_.screen(); }
    void present(const Rect& damage) override {
        inner_.present(damage);
        char buffer[4096];
        const ssize_t n = ::recv(manager_fd_, buffer, sizeof buffer, MSG_PEEK | MSG_DONTWAIT);
        unread_at_present.emplace_back(buffer, n > 0 ? static_cast<std::size_t>(n) : 0U);
    }
    [[nodiscard]] const Screen& screen() const noexcept { return inner_.screen(); }
    [[nodiscard]] std::size_t frames_presented() const noexcept { return inner_.frames_presented(); }

    std::vector<std::string> unread_at_present; // one entry per presented frame

private:
    HeadlessTarget inner_;
    const int& manager_fd_;
};

class FocusLinkTest : public ::testing::Test {
protected:
    loopback::Hypervisor hv;
    xenbus::testing::Toolstack toolstack{hv};
    std::unique_ptr<xen::Platform> dom0 = hv.platform(xen::kDom0);
    SocketPair link;
    PeekingTarget target{kW, kH, link.manager};
    FbFront personal{hv, toolstack, "personal"};
    FbFront secure{hv, toolstack, "secure"};
    DisplayBackend backend{*dom0,
                           target,
                           DisplayBackendConfig{{{"personal", {"personal", Trust::Personal}},
                                                 {"secure", {"secure", Trust::Secure}}},
                                                kStrip,
                                                VfbConfig{1U << 20},
                                                std::chrono::microseconds(1000),
                                                8,
                                                link.backend},
                           std::make_shared<spdlog::logger>("test", std::make_shared<spdlog::sinks::null_sink_mt>())};
    FocusPeer peer{link, [this](const std::function<bool()>& predicate) { return run_until(predicate); }};

    bool run_until(const std::function<bool()>& predicate) {
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
        while (!predicate()) {
            if (std::chrono::steady_clock::now() >= deadline) return false;
            if (backend.io().stopped()) return predicate();
            backend.io().run_for(std::chrono::milliseconds(2));
        }
        return true;
    }
    focus::ToManager next_message() { return peer.next(); }
    void send(const focus::Focus& order) { ASSERT_TRUE(peer.send(order)); }
    bool connect(FbFront& guest) {
        guest.start(kMode);
        return run_until([&] { return guest.backend_state() == "4"; });
    }
    void start_with_both_guests() {
        backend.start();
        const auto hello = next_message();
        ASSERT_TRUE(std::holds_alternative<focus::Hello>(hello));
        ASSERT_TRUE(connect(personal));
        ASSERT_TRUE(connect(secure));
        personal.fill(kPersonalColour);
        secure.fill(kSecureColour);
    }
    [[nodiscard]] std::uint32_t strip_pixel() const { return target.screen().at(kW - 1, 0); }
    [[nodiscard]] std::uint32_t content_pixel() const { return target.screen().at(5, kStrip + 5); }
};

TEST_F(FocusLinkTest, HelloNamesTheDisplayHolderFirst) {
    backend.start();
    const auto message = next_message();
    ASSERT_TRUE(std::holds_alternative<focus::Hello>(message));
    const auto& hello = std::get<focus::Hello>(message);
    EXPECT_EQ(hello.backend, "display");
    EXPECT_EQ(hello.holds, std::vector<focus::Holder>{focus::Holder::Display});
}

TEST_F(FocusLinkTest, AckArrivesAfterTheOnePresentThatShowsTheNewPersona) {
    start_with_both_guests();
    const std::size_t frames_before = target.frames_presented();

    send(focus::Focus{"secure", 7});
    const auto reply = next_message();

    ASSERT_TRUE(std::holds_alternative<focus::Ack>(reply));
    EXPECT_EQ(std::get<focus::Ack>(reply).epoch, 7U);
    // Exactly one frame went out for the switch, and it is the secure persona's whole frame
    // under the secure indicator; when it was presented, no ack had been sent yet.
    ASSERT_EQ(target.frames_presented(), frames_before + 1);
    EXPECT_EQ(strip_pixel(), kSecureStripColour);
    EXPECT_EQ(content_pixel(), kSecureColour);
    EXPECT_THAT(target.unread_at_present.back(), ::testing::Not(HasSubstr("ack")));
}

TEST_F(FocusLinkTest, EachSwitchIsAuditedAfterItsAck) {
    start_with_both_guests();
    send(focus::Focus{"secure", 7});
    ASSERT_TRUE(std::holds_alternative<focus::Ack>(next_message()));
    const auto audit = next_message();
    ASSERT_TRUE(std::holds_alternative<focus::AuditEvent>(audit));
    const auto& event = std::get<focus::AuditEvent>(audit);
    EXPECT_EQ(event.event, "display.switch");
    EXPECT_EQ(event.fields.at("persona"), "secure");
    EXPECT_EQ(event.fields.at("epoch"), 7);
}

TEST_F(FocusLinkTest, SwitchingBackShowsThePersonalPersonaBeforeItsAck) {
    start_with_both_guests();
    send(focus::Focus{"secure", 1});
    ASSERT_TRUE(std::holds_alternative<focus::Ack>(next_message()));
    ASSERT_TRUE(std::holds_alternative<focus::AuditEvent>(next_message()));

    send(focus::Focus{"personal", 2});
    const auto reply = next_message();
    ASSERT_TRUE(std::holds_alternative<focus::Ack>(reply));
    EXPECT_EQ(std::get<focus::Ack>(reply).epoch, 2U);
    EXPECT_EQ(strip_pixel(), kPersonalStripColour);
    EXPECT_EQ(content_pixel(), kPersonalColour);
}

TEST_F(FocusLinkTest, UnknownPersonaIsRefusedAndTheScreenIsLeftAlone) {
    start_with_both_guests();
    send(focus::Focus{"secure", 1});
    ASSERT_TRUE(std::holds_alternative<focus::Ack>(next_message()));
    ASSERT_TRUE(std::holds_alternative<focus::AuditEvent>(next_message()));
    const std::size_t frames_before = target.frames_presented();

    send(focus::Focus{"banking", 2});
    const auto reply = next_message();

    ASSERT_TRUE(std::holds_alternative<focus::Refuse>(reply));
    EXPECT_EQ(std::get<focus::Refuse>(reply).epoch, 2U);
    EXPECT_THAT(std::get<focus::Refuse>(reply).reason, HasSubstr("banking is not configured"));
    EXPECT_EQ(target.frames_presented(), frames_before);
    EXPECT_EQ(strip_pixel(), kSecureStripColour);
}

// "Nobody" is an input order (the first phase of a switch); the screen always shows one
// persona's indicator, so the display refuses it and presents nothing new.
TEST_F(FocusLinkTest, FocusToNobodyIsRefusedAndTheScreenIsLeftAlone) {
    start_with_both_guests();
    send(focus::Focus{"secure", 1});
    ASSERT_TRUE(std::holds_alternative<focus::Ack>(next_message()));
    ASSERT_TRUE(std::holds_alternative<focus::AuditEvent>(next_message()));
    const std::size_t frames_before = target.frames_presented();

    send(focus::Focus{std::nullopt, 2});
    const auto reply = next_message();

    ASSERT_TRUE(std::holds_alternative<focus::Refuse>(reply));
    EXPECT_EQ(std::get<focus::Refuse>(reply).epoch, 2U);
    EXPECT_THAT(std::get<focus::Refuse>(reply).reason, HasSubstr("nobody"));
    EXPECT_EQ(target.frames_presented(), frames_before);
    EXPECT_EQ(strip_pixel(), kSecureStripColour);
}

TEST_F(FocusLinkTest, RefusedGeometryIsAuditedWithThePersona) {
    backend.start();
    ASSERT_TRUE(std::holds_alternative<focus::Hello>(next_message()));
    secure.start(FbMode{100000, -5, 1, 4096});
    const auto audit = next_message();
    ASSERT_TRUE(std::holds_alternative<focus::AuditEvent>(audit));
    const auto& event = std::get<focus::AuditEvent>(audit);
    EXPECT_EQ(event.event, "display.guest-rejected");
    EXPECT_EQ(event.fields.at("persona"), "secure");
    EXPECT_THAT(event.fields.at("reason").get<std::string>(), HasSubstr("width"));
}

TEST_F(FocusLinkTest, ManagerClosingTheLinkStopsTheBackend) {
    backend.start();
    ASSERT_TRUE(std::holds_alternative<focus::Hello>(next_message()));
    link.close_manager();
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (!backend.io().stopped() && std::chrono::steady_clock::now() < deadline) {
        backend.io().run_for(std::chrono::milliseconds(5));
    }
    EXPECT_TRUE(backend.io().stopped());
    EXPECT_THAT(backend.stop_reason(), HasSubstr("closed the focus link"));
}

TEST_F(FocusLinkTest, AckToAManagerThatAlreadyLeftEndsTheLinkWithoutSigpipe) {
    start_with_both_guests();
    send(focus::Focus{"secure", 3});
    link.close_manager(); // gone before the ack: writing it must not raise SIGPIPE in the backend
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (!backend.io().stopped() && std::chrono::steady_clock::now() < deadline) {
        backend.io().run_for(std::chrono::milliseconds(5));
    }
    EXPECT_TRUE(backend.io().stopped());
    EXPECT_FALSE(backend.stop_reason().empty());
}

TEST_F(FocusLinkTest, WithoutOrdersNothingIsShown) {
    start_with_both_guests();
    // Many refresh periods (1 ms here) pass without an order.
    backend.io().run_for(std::chrono::milliseconds(100));
    EXPECT_EQ(target.frames_presented(), 0U);
    EXPECT_EQ(strip_pixel(), 0U);
}

} // namespace
} // namespace twofold::display

namespace twofold::display {
namespace {

// A guest that flips its frontend `state` in a loop, each time with a geometry the backend
// refuses: every refusal is a bind attempt and an audit event. After a few, the connection
// holds the frontend (xenbus BindBackoff) and its flips cost nothing; the events it did cause
// are sent (within the per-persona budget), and the secure persona's refusal during the flood
// goes up in full. (The budget's summaries: focus_client_test, audit_limiter_test.)
TEST_F(FocusLinkTest, StateFloodOfOnePersonaIsHeldAndTheOthersEventsGoUp) {
    backend.start();
    ASSERT_TRUE(std::holds_alternative<focus::Hello>(next_message()));
    personal.start(FbMode{100000, -5, 1, 4096});
    constexpr int kFlips = 300;
    const auto spin = [&](std::chrono::milliseconds d) {
        const auto until = std::chrono::steady_clock::now() + d;
        (void)run_until([&] { return std::chrono::steady_clock::now() >= until; });
    };
    for (int i = 0; i < kFlips; ++i) {
        personal.set_state(xenbus::XenbusState::Initialising);
        spin(std::chrono::milliseconds(1));
        personal.set_state(xenbus::XenbusState::Initialised);
        spin(std::chrono::milliseconds(1));
        if (i == kFlips / 2) secure.start(FbMode{100000, -5, 1, 4096});
    }
    spin(std::chrono::milliseconds(50));
    std::size_t personal_events = 0;
    std::size_t secure_events = 0;
    std::string drained;
    for (;;) {
        char buffer[4096];
        const ssize_t n = ::recv(link.manager, buffer, sizeof buffer, MSG_DONTWAIT);
        if (n <= 0) break;
        drained.append(buffer, static_cast<std::size_t>(n));
    }
    std::istringstream lines(peer.pending() + drained);
    for (std::string line; std::getline(lines, line);) {
        const auto parsed = focus::parse_to_manager(line);
        ASSERT_TRUE(std::holds_alternative<focus::ToManager>(parsed)) << line;
        const auto* event = std::get_if<focus::AuditEvent>(&std::get<focus::ToManager>(parsed));
        if (event == nullptr || event->event != "display.guest-rejected") continue;
        (event->fields.at("persona") == "personal" ? personal_events : secure_events) += 1;
    }
    EXPECT_EQ(secure_events, 1U) << "secure's refusal went up in full";
    EXPECT_GE(personal_events, 3U) << "the free failures were refused and audited";
    EXPECT_LE(personal_events, 6U) << "the flood was held, not served " << kFlips << " times";
}

} // namespace
} // namespace twofold::display
