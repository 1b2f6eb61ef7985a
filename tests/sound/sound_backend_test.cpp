// The sound backend process wiring on the loopback: two simulated xen-snd-front personas (and
// a stranger), focus orders as the manager would send them, the in-memory sink as dom0's
// speaker and microphone, and hostile frontends that must cost only themselves.
#include <gtest/gtest.h>
#include <spdlog/spdlog.h>

#include <numeric>

#include "sndfront.h"
#include "twofold/sound/memory_sink.h"
#include "twofold/sound/sound_backend.h"

namespace twofold::sound {
namespace {

using testing::open_request;
using testing::rw_request;
using testing::SndFront;
using testing::simple_request;
using testing::trigger_request;

constexpr std::size_t kPlayback = 0; // stream index in the default offer: 0/0 playback, 0/1 capture
constexpr std::size_t kCapture = 1;
constexpr std::uint32_t kBuffer = 16384;
constexpr std::uint32_t kPeriod = 4096;

std::vector<std::byte> tone(std::size_t bytes, std::uint8_t seed) {
    std::vector<std::byte> out(bytes);
    for (std::size_t i = 0; i < bytes; ++i) out[i] = static_cast<std::byte>((i * 7 + seed) & 0xFF);
    return out;
}

class SoundBackendTest : public ::testing::Test {
protected:
    loopback::Hypervisor hv;
    xenbus::testing::Toolstack toolstack{hv};
    std::unique_ptr<xen::Platform> dom0 = hv.platform(xen::kDom0);
    std::shared_ptr<xenbus::testing::CapturingSink> logs = std::make_shared<xenbus::testing::CapturingSink>();
    MemorySink sink;
    std::vector<focus::AuditEvent> audits;
    SoundBackend backend{*dom0, SoundBackendConfig{{"personal", "secure"}, default_offer(), 8}, sink,
                         std::make_shared<spdlog::logger>("test", logs),
                         [this](const focus::AuditEvent& event) { audits.push_back(event); }};
    SndFront personal{hv, toolstack, "personal"};
    SndFront secure{hv, toolstack, "secure"};

    void SetUp() override { backend.start(); }

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
    bool connect(SndFront& guest) {
        guest.configure(backend.offer());
        if (!run_until([&] { return guest.backend_state() == "2"; })) return false;
        guest.initialise();
        const bool ok = run_until([&] { return guest.backend_state() == "4"; });
        if (ok) guest.set_connected();
        settle();
        return ok;
    }
    std::int32_t call(SndFront& guest, std::size_t stream, const xensnd_req& request) {
        const auto response = guest.call(stream, request, [this](const std::function<bool()>& p) { return run_until(p); });
        if (!response) return 1; // no answer at all: never a valid status
        EXPECT_EQ(response->id, request.id);
        EXPECT_EQ(response->operation, request.operation);
        return response->status;
    }
    focus::ToManager focus_on(std::optional<std::string> persona, std::uint64_t epoch) {
        return backend.apply_focus(focus::Focus{std::move(persona), epoch});
    }
    // Opens the stream on a fresh buffer, starts it, and writes `samples` through it in periods.
    SndFront::Buffer play(SndFront& guest, const std::vector<std::byte>& samples) {
        auto buffer = guest.make_buffer(kBuffer);
        EXPECT_EQ(call(guest, kPlayback, open_request(1, 48000, XENSND_PCM_FORMAT_S16_LE, 2, kBuffer, buffer.directory, kPeriod)), 0);
        EXPECT_EQ(call(guest, kPlayback, trigger_request(2, XENSND_OP_TRIGGER_START)), 0);
        std::uint16_t id = 3;
        for (std::size_t at = 0; at < samples.size(); at += kPeriod) {
            const std::size_t offset = at % kBuffer;
            std::memcpy(buffer.view.bytes().data() + offset, samples.data() + at, kPeriod);
            EXPECT_EQ(call(guest, kPlayback, rw_request(id++, XENSND_OP_WRITE, static_cast<std::uint32_t>(offset), kPeriod)), 0);
        }
        return buffer;
    }
    static StreamKey key(const std::string& persona, std::uint8_t stream = 0) { return StreamKey{persona, {0, stream}}; }
};

TEST_F(SoundBackendTest, BackendOffersProtocolVersionTwoAndConnects) {
    ASSERT_TRUE(connect(personal));
    EXPECT_EQ(personal.backend_node("versions"), "2");
    ASSERT_EQ(backend.devices().size(), 1U);
    EXPECT_TRUE(backend.devices()[0]->bound());
}

TEST_F(SoundBackendTest, ForegroundGuestThatPlaysABufferGetsItAtTheSinkIntact) {
    ASSERT_TRUE(connect(personal));
    ASSERT_TRUE(std::holds_alternative<focus::Ack>(focus_on("personal", 1)));
    const auto samples = tone(3 * kBuffer, 1); // wraps the ring buffer twice
    (void)play(personal, samples);
    EXPECT_EQ(sink.played(key("personal")), samples);
}

TEST_F(SoundBackendTest, PositionEventsReportTheBytesPlayed) {
    ASSERT_TRUE(connect(personal));
    focus_on("personal", 1);
    (void)play(personal, tone(kBuffer, 2));
    const auto events = personal.take_events(kPlayback);
    ASSERT_EQ(events.size(), kBuffer / kPeriod);
    EXPECT_EQ(events.back().type, XENSND_EVT_CUR_POS);
    EXPECT_EQ(events.back().op.cur_pos.position, kBuffer);
}

TEST_F(SoundBackendTest, BackgroundPersonaIsAnsweredButNeverHeard) {
    ASSERT_TRUE(connect(personal));
    ASSERT_TRUE(connect(secure));
    focus_on("secure", 1);
    (void)play(personal, tone(kBuffer, 3));
    EXPECT_TRUE(sink.played(key("personal")).empty());
    EXPECT_EQ(personal.take_events(kPlayback).size(), kBuffer / kPeriod); // its audio stack runs on
    EXPECT_EQ(sink.opens(), 0U);
}

TEST_F(SoundBackendTest, SwitchClosesTheOldForegroundBeforeTheNewOnePlays) {
    ASSERT_TRUE(connect(personal));
    ASSERT_TRUE(connect(secure));
    focus_on("personal", 1);
    auto personal_buffer = play(personal, tone(kPeriod, 4));
    ASSERT_TRUE(sink.playing());
    const auto answer = focus_on("secure", 2);
    ASSERT_TRUE(std::holds_alternative<focus::Ack>(answer));
    EXPECT_EQ(std::get<focus::Ack>(answer).epoch, 2U);
    EXPECT_FALSE(sink.playing()); // closed when the Ack is produced
    const auto secure_samples = tone(kBuffer, 5);
    (void)play(secure, secure_samples);
    // personal keeps writing after the switch: none of it is heard
    EXPECT_EQ(call(personal, kPlayback, rw_request(9, XENSND_OP_WRITE, 0, kPeriod)), 0);
    EXPECT_EQ(sink.played(key("personal")), tone(kPeriod, 4));
    EXPECT_EQ(sink.played(key("secure")), secure_samples);
    EXPECT_EQ(sink.refused_opens(), 0U);
}

TEST_F(SoundBackendTest, FocusToNobodySilencesEveryPersona) {
    ASSERT_TRUE(connect(personal));
    focus_on("personal", 1);
    (void)play(personal, tone(kPeriod, 6));
    ASSERT_TRUE(std::holds_alternative<focus::Ack>(focus_on(std::nullopt, 2)));
    EXPECT_FALSE(sink.playing());
    EXPECT_EQ(call(personal, kPlayback, rw_request(9, XENSND_OP_WRITE, 0, kPeriod)), 0);
    EXPECT_EQ(sink.played(key("personal")).size(), kPeriod);
}

TEST_F(SoundBackendTest, FocusOnAPersonaNotServedIsRefused) {
    const auto answer = focus_on("stranger", 4);
    ASSERT_TRUE(std::holds_alternative<focus::Refuse>(answer));
    EXPECT_EQ(std::get<focus::Refuse>(answer).epoch, 4U);
}

TEST_F(SoundBackendTest, CaptureReachesOnlyTheForegroundPersona) {
    ASSERT_TRUE(connect(personal));
    ASSERT_TRUE(connect(secure));
    sink.set_capture_pattern(tone(64, 9));
    focus_on("secure", 1);
    auto secure_buffer = secure.make_buffer(kBuffer);
    auto personal_buffer = personal.make_buffer(kBuffer);
    std::memset(personal_buffer.view.bytes().data(), 0x55, kPeriod);
    ASSERT_EQ(call(secure, kCapture, open_request(1, 16000, XENSND_PCM_FORMAT_S16_LE, 1, kBuffer, secure_buffer.directory, 0)), 0);
    ASSERT_EQ(call(personal, kCapture, open_request(1, 16000, XENSND_PCM_FORMAT_S16_LE, 1, kBuffer, personal_buffer.directory, 0)), 0);
    ASSERT_EQ(call(secure, kCapture, rw_request(2, XENSND_OP_READ, 0, 128)), 0);
    ASSERT_EQ(call(personal, kCapture, rw_request(2, XENSND_OP_READ, 0, kPeriod)), 0);
    const auto expected = tone(64, 9);
    EXPECT_EQ(std::memcmp(secure_buffer.view.bytes().data(), expected.data(), 64), 0);
    EXPECT_EQ(std::memcmp(secure_buffer.view.bytes().data() + 64, expected.data(), 64), 0);
    const std::vector<std::byte> silence(kPeriod);
    EXPECT_EQ(std::memcmp(personal_buffer.view.bytes().data(), silence.data(), kPeriod), 0);
    EXPECT_EQ(sink.captured_bytes(), 128U);
}

TEST_F(SoundBackendTest, MutedChannelsReachTheSinkAsSilence) {
    ASSERT_TRUE(connect(personal));
    focus_on("personal", 1);
    auto buffer = personal.make_buffer(kBuffer);
    ASSERT_EQ(call(personal, kPlayback, open_request(1, 48000, XENSND_PCM_FORMAT_S16_LE, 2, kBuffer, buffer.directory, 0)), 0);
    const std::uint8_t left_only[2] = {1, 0};
    std::memcpy(buffer.view.bytes().data() + 8192, left_only, 2);
    ASSERT_EQ(call(personal, kPlayback, rw_request(2, XENSND_OP_MUTE, 8192, 2)), 0);
    std::memset(buffer.view.bytes().data(), 0x7F, 8);
    ASSERT_EQ(call(personal, kPlayback, rw_request(3, XENSND_OP_WRITE, 0, 8)), 0);
    const auto played = sink.played(key("personal"));
    ASSERT_EQ(played.size(), 8U);
    EXPECT_EQ(played[0], std::byte{0});    // left muted
    EXPECT_EQ(played[2], std::byte{0x7F}); // right plays
}

TEST_F(SoundBackendTest, StrangerDomainIsRefusedAndAudited) {
    SndFront stranger{hv, toolstack, "stranger"};
    stranger.configure(backend.offer());
    settle();
    EXPECT_NE(stranger.backend_state(), "2");
    EXPECT_TRUE(backend.devices().empty());
    ASSERT_FALSE(audits.empty());
    EXPECT_EQ(audits.back().event, "sound.refused-frontend");
}

// --- hostile frontends ---

TEST_F(SoundBackendTest, AbsurdOpensAreRefusedWithAnErrorAndALogLine) {
    ASSERT_TRUE(connect(personal));
    EXPECT_EQ(call(personal, kPlayback, open_request(1, 0xFFFFFFFF, XENSND_PCM_FORMAT_S16_LE, 2, kBuffer, 5, 0)), kStatusInvalid);
    EXPECT_EQ(call(personal, kPlayback, open_request(2, 48000, XENSND_PCM_FORMAT_S16_LE, 255, kBuffer, 5, 0)), kStatusInvalid);
    EXPECT_EQ(call(personal, kPlayback, open_request(3, 48000, XENSND_PCM_FORMAT_S16_LE, 2, 0x40000000, 5, 0)), kStatusInvalid);
    EXPECT_TRUE(logs->contains("refused request"));
    EXPECT_FALSE(backend.devices()[0]->stream(kPlayback).is_open());
}

TEST_F(SoundBackendTest, GrantDirectoryNamingGrantsNotGivenIsRefused) {
    ASSERT_TRUE(connect(personal));
    auto buffer = personal.make_buffer(kBuffer);
    const grant_ref_t bogus = 0x1FFFF0; // in range, but never granted
    std::memcpy(buffer.directory_view.bytes().data() + 4, &bogus, sizeof bogus);
    EXPECT_EQ(call(personal, kPlayback, open_request(1, 48000, XENSND_PCM_FORMAT_S16_LE, 2, kBuffer, buffer.directory, 0)),
              kStatusInvalid);
    EXPECT_TRUE(logs->contains("OPEN refused"));
    // The stream is still usable with a good directory.
    auto good = personal.make_buffer(kBuffer);
    EXPECT_EQ(call(personal, kPlayback, open_request(2, 48000, XENSND_PCM_FORMAT_S16_LE, 2, kBuffer, good.directory, 0)), 0);
}

TEST_F(SoundBackendTest, RingOfGarbageRequestsIsAnsweredWithErrorsAndTheStreamGoesOn) {
    ASSERT_TRUE(connect(personal));
    std::size_t queued = 0;
    for (std::uint8_t i = 0; i < 40; ++i) {
        xensnd_req garbage{};
        std::memset(&garbage, 0xA5 ^ i, sizeof garbage);
        queued += personal.queue(kPlayback, garbage, 1);
    }
    std::size_t answered = 0;
    ASSERT_TRUE(run_until([&] {
        answered += personal.drain_responses(kPlayback);
        return answered == queued;
    }));
    EXPECT_GT(queued, 0U);
    EXPECT_EQ(backend.devices()[0]->stream(kPlayback).counters().rejected, queued);
    EXPECT_EQ(personal.backend_state(), "4");
    focus_on("personal", 1);
    const auto samples = tone(kPeriod, 7);
    (void)play(personal, samples);
    EXPECT_EQ(sink.played(key("personal")), samples);
}

TEST_F(SoundBackendTest, ImpossibleRequestProducerClosesOnlyThatFrontend) {
    ASSERT_TRUE(connect(personal));
    ASSERT_TRUE(connect(secure));
    focus_on("secure", 1);
    const std::uint32_t absurd = 1000;
    std::memcpy(personal.request_page(kPlayback).data(), &absurd, sizeof absurd); // req_prod
    personal.notify_requests(kPlayback);
    ASSERT_TRUE(run_until([&] { return personal.backend_state() == "5"; }));
    EXPECT_TRUE(logs->contains("request ring"));
    const auto samples = tone(kPeriod, 8);
    (void)play(secure, samples);
    EXPECT_EQ(sink.played(key("secure")), samples);
}

TEST_F(SoundBackendTest, EventPortFloodAndAStuckEventPageCostOnlyThatGuest) {
    ASSERT_TRUE(connect(personal));
    focus_on("personal", 1);
    for (int i = 0; i < 5000; ++i) personal.notify_events(kPlayback);
    // The guest never consumes its event page: more writes than the page has slots.
    auto buffer = personal.make_buffer(kBuffer);
    ASSERT_EQ(call(personal, kPlayback, open_request(1, 48000, XENSND_PCM_FORMAT_S16_LE, 2, kBuffer, buffer.directory, 4)), 0);
    for (std::uint16_t id = 2; id < 2 + 2 * XENSND_IN_RING_LEN; ++id) {
        ASSERT_EQ(call(personal, kPlayback, rw_request(id, XENSND_OP_WRITE, 0, 4)), 0);
    }
    const auto& counters = backend.devices()[0]->stream(kPlayback).counters();
    EXPECT_GT(counters.event_port_kicks, 0U);
    EXPECT_EQ(counters.events_sent, XENSND_IN_RING_LEN);
    EXPECT_EQ(counters.events_dropped, XENSND_IN_RING_LEN);
    EXPECT_EQ(personal.backend_state(), "4");
}

TEST_F(SoundBackendTest, EventIdsStayConsecutiveAcrossDroppedEvents) {
    ASSERT_TRUE(connect(personal));
    auto buffer = personal.make_buffer(kBuffer);
    ASSERT_EQ(call(personal, kPlayback, open_request(1, 48000, XENSND_PCM_FORMAT_S16_LE, 2, kBuffer, buffer.directory, 4)), 0);
    for (std::uint16_t id = 2; id < 2 + XENSND_IN_RING_LEN + 5; ++id) {
        ASSERT_EQ(call(personal, kPlayback, rw_request(id, XENSND_OP_WRITE, 0, 4)), 0); // the last 5 find the page full
    }
    const auto first = personal.take_events(kPlayback);
    ASSERT_EQ(first.size(), XENSND_IN_RING_LEN);
    EXPECT_EQ(first.back().id, XENSND_IN_RING_LEN - 1);
    ASSERT_EQ(call(personal, kPlayback, rw_request(99, XENSND_OP_WRITE, 0, 4)), 0);
    const auto next = personal.take_events(kPlayback);
    ASSERT_EQ(next.size(), 1U);
    EXPECT_EQ(next[0].id, XENSND_IN_RING_LEN); // xen-snd-front drops every event after a gap
    EXPECT_EQ(next[0].op.cur_pos.position, 4U * (XENSND_IN_RING_LEN + 6));
}

TEST_F(SoundBackendTest, ImpossibleEventConsumerStopsEventsButNotRequests) {
    ASSERT_TRUE(connect(personal));
    auto buffer = personal.make_buffer(kBuffer);
    ASSERT_EQ(call(personal, kPlayback, open_request(1, 48000, XENSND_PCM_FORMAT_S16_LE, 2, kBuffer, buffer.directory, 4)), 0);
    personal.set_event_cons(kPlayback, 0x80000000U);
    EXPECT_EQ(call(personal, kPlayback, rw_request(2, XENSND_OP_WRITE, 0, 4)), 0);
    EXPECT_EQ(backend.devices()[0]->stream(kPlayback).counters().events_dropped, 1U);
}

TEST_F(SoundBackendTest, FrontendWhoseStreamTypeDiffersFromTheOfferIsRefused) {
    personal.configure(backend.offer());
    ASSERT_TRUE(run_until([&] { return personal.backend_state() == "2"; }));
    personal.write_node("0/0/type", "c"); // the guest rewrote its configuration
    personal.initialise();
    settle();
    EXPECT_NE(personal.backend_state(), "4");
    EXPECT_TRUE(logs->contains("type differs from the offer"));
}

TEST_F(SoundBackendTest, RequestFloodIsServedInBoundedBatches) {
    ASSERT_TRUE(connect(personal));
    const std::size_t queued = personal.queue(kPlayback, simple_request(1, XENSND_OP_CLOSE), 1000);
    EXPECT_EQ(queued, 32U); // one page of 64-byte slots
    std::size_t answered = 0;
    ASSERT_TRUE(run_until([&] {
        answered += personal.drain_responses(kPlayback);
        return answered == queued;
    }));
    EXPECT_EQ(backend.devices()[0]->stream(kPlayback).counters().requests, queued);
}

} // namespace
} // namespace twofold::sound
