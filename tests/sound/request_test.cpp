// sndif request parsing: every rule of parse_request() and answer_hw_query(), one test each,
// against the default offer (one stereo s16_le playback and capture stream, 64 KiB buffers).
#include <gtest/gtest.h>

#include "requests.h"
#include "twofold/sound/request.h"

namespace twofold::sound {
namespace {

using testing::open_request;
using testing::rw_request;
using testing::simple_request;
using testing::trigger_request;

const CardOffer kOffer = default_offer();
const StreamOffer& playback() { return kOffer.devices[0].streams[0]; }
const StreamOffer& capture() { return kOffer.devices[0].streams[1]; }

OpenRequest opened(std::uint32_t buffer = 16384) {
    OpenRequest open;
    open.params = PcmParams{48000, SampleFormat::S16Le, 2};
    open.buffer_bytes = buffer;
    open.period_bytes = 4096;
    open.directory = 9;
    return open;
}

ParsedRequest parse_closed(const xensnd_req& request, const StreamOffer& offer = playback()) {
    return parse_request(request, StreamView{offer, std::nullopt});
}
ParsedRequest parse_open(const xensnd_req& request, const StreamOffer& offer = playback()) {
    return parse_request(request, StreamView{offer, opened()});
}
std::int32_t status_of(const ParsedRequest& parsed) {
    const auto* rejection = std::get_if<Rejection>(&parsed.outcome);
    return rejection == nullptr ? kStatusOk : rejection->status;
}

TEST(SoundRequest, OpenWithOfferedParametersBecomesAnOpenRequest) {
    const auto parsed = parse_closed(open_request(7, 48000, XENSND_PCM_FORMAT_S16_LE, 2, 16384, 9, 4096));
    ASSERT_EQ(status_of(parsed), kStatusOk);
    const auto& open = std::get<OpenRequest>(std::get<Request>(parsed.outcome));
    EXPECT_EQ(open.params, (PcmParams{48000, SampleFormat::S16Le, 2}));
    EXPECT_EQ(open.buffer_bytes, 16384U);
    EXPECT_EQ(open.period_bytes, 4096U);
    EXPECT_EQ(open.directory, 9U);
    EXPECT_EQ(parsed.id, 7);
}

TEST(SoundRequest, OpenAtARateNotOfferedIsInvalid) {
    EXPECT_EQ(status_of(parse_closed(open_request(1, 44101, XENSND_PCM_FORMAT_S16_LE, 2, 16384, 9, 0))), kStatusInvalid);
    EXPECT_EQ(status_of(parse_closed(open_request(1, 0xFFFFFFFF, XENSND_PCM_FORMAT_S16_LE, 2, 16384, 9, 0))), kStatusInvalid);
}

TEST(SoundRequest, OpenWithAbsurdChannelCountsIsInvalid) {
    EXPECT_EQ(status_of(parse_closed(open_request(1, 48000, XENSND_PCM_FORMAT_S16_LE, 0, 16384, 9, 0))), kStatusInvalid);
    EXPECT_EQ(status_of(parse_closed(open_request(1, 48000, XENSND_PCM_FORMAT_S16_LE, 255, 16384, 9, 0))), kStatusInvalid);
}

TEST(SoundRequest, OpenInAFormatNotOfferedOrNotServedIsInvalid) {
    EXPECT_EQ(status_of(parse_closed(open_request(1, 48000, XENSND_PCM_FORMAT_S32_LE, 2, 16384, 9, 0))), kStatusInvalid);
    EXPECT_EQ(status_of(parse_closed(open_request(1, 48000, XENSND_PCM_FORMAT_GSM, 2, 16384, 9, 0))), kStatusInvalid);
    EXPECT_EQ(status_of(parse_closed(open_request(1, 48000, 200, 2, 16384, 9, 0))), kStatusInvalid);
}

TEST(SoundRequest, OpenWithABufferBeyondTheOfferIsInvalid) {
    EXPECT_EQ(status_of(parse_closed(open_request(1, 48000, XENSND_PCM_FORMAT_S16_LE, 2, 0xFFFFFFFF, 9, 0))), kStatusInvalid);
    EXPECT_EQ(status_of(parse_closed(open_request(1, 48000, XENSND_PCM_FORMAT_S16_LE, 2, 65536 + 4, 9, 0))), kStatusInvalid);
    EXPECT_EQ(status_of(parse_closed(open_request(1, 48000, XENSND_PCM_FORMAT_S16_LE, 2, 0, 9, 0))), kStatusInvalid);
}

TEST(SoundRequest, OpenWithABufferOrPeriodOfPartFramesIsInvalid) {
    EXPECT_EQ(status_of(parse_closed(open_request(1, 48000, XENSND_PCM_FORMAT_S16_LE, 2, 16382, 9, 0))), kStatusInvalid);
    EXPECT_EQ(status_of(parse_closed(open_request(1, 48000, XENSND_PCM_FORMAT_S16_LE, 2, 16384, 9, 4094))), kStatusInvalid);
}

TEST(SoundRequest, OpenWithAPeriodLongerThanTheBufferIsInvalid) {
    EXPECT_EQ(status_of(parse_closed(open_request(1, 48000, XENSND_PCM_FORMAT_S16_LE, 2, 16384, 9, 32768))), kStatusInvalid);
}

TEST(SoundRequest, OpenWithGrantReferenceZeroOrOutOfRangeIsInvalid) {
    EXPECT_EQ(status_of(parse_closed(open_request(1, 48000, XENSND_PCM_FORMAT_S16_LE, 2, 16384, 0, 0))), kStatusInvalid);
    EXPECT_EQ(status_of(parse_closed(open_request(1, 48000, XENSND_PCM_FORMAT_S16_LE, 2, 16384, 0xFFFFFFFF, 0))), kStatusInvalid);
}

TEST(SoundRequest, OpenOfAnOpenStreamIsBusy) {
    EXPECT_EQ(status_of(parse_open(open_request(1, 48000, XENSND_PCM_FORMAT_S16_LE, 2, 16384, 9, 0))), kStatusBusy);
}

TEST(SoundRequest, WriteWithinTheBufferBecomesATransfer) {
    const auto parsed = parse_open(rw_request(3, XENSND_OP_WRITE, 4096, 8192));
    ASSERT_EQ(status_of(parsed), kStatusOk);
    const auto& transfer = std::get<TransferRequest>(std::get<Request>(parsed.outcome));
    EXPECT_EQ(transfer.direction, Direction::Playback);
    EXPECT_EQ(transfer.offset, 4096U);
    EXPECT_EQ(transfer.length, 8192U);
}

TEST(SoundRequest, WriteWhoseRangeWrapsOrLeavesTheBufferIsInvalid) {
    EXPECT_EQ(status_of(parse_open(rw_request(1, XENSND_OP_WRITE, 0xFFFFFFF0, 0x20))), kStatusInvalid);
    EXPECT_EQ(status_of(parse_open(rw_request(1, XENSND_OP_WRITE, 16000, 1024))), kStatusInvalid);
    EXPECT_EQ(status_of(parse_open(rw_request(1, XENSND_OP_WRITE, 0, 0))), kStatusInvalid);
}

TEST(SoundRequest, WriteOfPartFramesIsInvalid) {
    EXPECT_EQ(status_of(parse_open(rw_request(1, XENSND_OP_WRITE, 2, 4))), kStatusInvalid);
}

TEST(SoundRequest, WriteToACaptureStreamAndReadFromAPlaybackStreamAreInvalid) {
    EXPECT_EQ(status_of(parse_open(rw_request(1, XENSND_OP_WRITE, 0, 4), capture())), kStatusInvalid);
    EXPECT_EQ(status_of(parse_open(rw_request(1, XENSND_OP_READ, 0, 4), playback())), kStatusInvalid);
    EXPECT_EQ(status_of(parse_open(rw_request(1, XENSND_OP_READ, 0, 4), capture())), kStatusOk);
}

TEST(SoundRequest, TransfersAndTriggersOfAClosedStreamAreInvalid) {
    EXPECT_EQ(status_of(parse_closed(rw_request(1, XENSND_OP_WRITE, 0, 4))), kStatusInvalid);
    EXPECT_EQ(status_of(parse_closed(trigger_request(1, XENSND_OP_TRIGGER_START))), kStatusInvalid);
    EXPECT_EQ(status_of(parse_closed(rw_request(1, XENSND_OP_SET_VOLUME, 0, 8))), kStatusInvalid);
}

TEST(SoundRequest, CloseIsAcceptedInAnyState) {
    EXPECT_EQ(status_of(parse_closed(simple_request(1, XENSND_OP_CLOSE))), kStatusOk);
    EXPECT_EQ(status_of(parse_open(simple_request(1, XENSND_OP_CLOSE))), kStatusOk);
}

TEST(SoundRequest, UnknownTriggerTypeIsInvalid) {
    EXPECT_EQ(status_of(parse_open(trigger_request(1, XENSND_OP_TRIGGER_RESUME))), kStatusOk);
    EXPECT_EQ(status_of(parse_open(trigger_request(1, 4))), kStatusInvalid);
}

TEST(SoundRequest, VolumeCarriesOneInt32PerChannelAndMuteOneBytePerChannel) {
    EXPECT_EQ(status_of(parse_open(rw_request(1, XENSND_OP_SET_VOLUME, 0, 8))), kStatusOk);
    EXPECT_EQ(status_of(parse_open(rw_request(1, XENSND_OP_SET_VOLUME, 0, 4096))), kStatusInvalid);
    EXPECT_EQ(status_of(parse_open(rw_request(1, XENSND_OP_GET_VOLUME, 2, 8))), kStatusInvalid);
    EXPECT_EQ(status_of(parse_open(rw_request(1, XENSND_OP_MUTE, 0, 2))), kStatusOk);
    EXPECT_EQ(status_of(parse_open(rw_request(1, XENSND_OP_UNMUTE, 0, 3))), kStatusInvalid);
}

TEST(SoundRequest, UnknownOperationIsNotImplementedAndEchoesIdAndOperation) {
    const auto parsed = parse_closed(simple_request(0xBEEF, 0xEE));
    EXPECT_EQ(status_of(parsed), kStatusNotImplemented);
    EXPECT_EQ(parsed.id, 0xBEEF);
    EXPECT_EQ(parsed.operation, 0xEE);
}

TEST(SoundRequest, HwQueryWithMinAboveMaxIsInvalid) {
    xensnd_req request = simple_request(1, XENSND_OP_HW_PARAM_QUERY);
    request.op.hw_param.formats = ~0ULL;
    request.op.hw_param.rates = {48000, 8000};
    EXPECT_EQ(status_of(parse_closed(request)), kStatusInvalid);
}

TEST(SoundRequest, HwQueryIsAnsweredWithinTheOffer) {
    HwParams wanted{~0ULL, {0, 0xFFFFFFFF}, {0, 255}, {0, 0xFFFFFFFF}, {0, 0xFFFFFFFF}};
    const auto answer = answer_hw_query(wanted, playback());
    ASSERT_TRUE(std::holds_alternative<HwParams>(answer));
    const auto& got = std::get<HwParams>(answer);
    EXPECT_EQ(got.formats, mask_of(SampleFormat::S16Le));
    EXPECT_EQ(got.rates, (Interval{8000, 48000}));
    EXPECT_EQ(got.channels, (Interval{1, 2}));
    EXPECT_EQ(got.buffer_frames, (Interval{1, 65536 / 2}));
}

TEST(SoundRequest, HwQueryOutsideTheOfferIsInvalid) {
    HwParams wanted{mask_of(SampleFormat::F64Le), {8000, 48000}, {1, 2}, {1, 100}, {1, 100}};
    EXPECT_TRUE(std::holds_alternative<Rejection>(answer_hw_query(wanted, playback())));
    wanted = HwParams{~0ULL, {96000, 192000}, {1, 2}, {1, 100}, {1, 100}};
    EXPECT_TRUE(std::holds_alternative<Rejection>(answer_hw_query(wanted, playback())));
    wanted = HwParams{~0ULL, {8000, 48000}, {3, 8}, {1, 100}, {1, 100}};
    EXPECT_TRUE(std::holds_alternative<Rejection>(answer_hw_query(wanted, playback())));
}

TEST(SoundOffer, FrontendNodesFollowTheSndifLayout) {
    const auto nodes = frontend_nodes(kOffer);
    const auto value = [&](const std::string& node) {
        for (const auto& [name, v] : nodes) {
            if (name == node) return v;
        }
        return std::string("<missing>");
    };
    EXPECT_EQ(value("0/0/type"), "p");
    EXPECT_EQ(value("0/1/type"), "c");
    EXPECT_EQ(value("0/0/sample-rates"), "8000,16000,44100,48000");
    EXPECT_EQ(value("0/0/sample-formats"), "s16_le");
    EXPECT_EQ(value("0/1/channels-max"), "2");
    EXPECT_EQ(value("0/0/buffer-size"), "65536");
    EXPECT_EQ(value("0/1/unique-id"), "1");
}

TEST(SoundOffer, OffersBeyondTheLimitsAreRefused) {
    CardOffer offer = default_offer();
    offer.devices[0].streams[0].channels_max = 64;
    EXPECT_THROW(validate(offer), std::invalid_argument);
    offer = default_offer();
    offer.devices[0].streams[0].buffer_bytes = 1U << 30;
    EXPECT_THROW(validate(offer), std::invalid_argument);
    offer = default_offer();
    offer.devices[0].streams[0].rates = {1};
    EXPECT_THROW(validate(offer), std::invalid_argument);
    EXPECT_NO_THROW(validate(default_offer()));
}

} // namespace
} // namespace twofold::sound
