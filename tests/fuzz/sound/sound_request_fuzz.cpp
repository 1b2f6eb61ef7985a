// A hostile xen-snd-front's requests against the sndif request parser: every byte of the
// 64-byte request, against a closed or an open stream of either direction. Accepted requests
// must satisfy what the stream code relies on without checking again (ranges inside the
// buffer, whole frames, parameters within the offer, HW_PARAM_QUERY answers within both the
// offer and the query); rejections must carry an error status.
//
// Input: [flags][channels][buffer frames lo][buffer frames hi] then the request (zero-padded
// to 64 bytes). flags bit 0: the stream is open; bit 1: the capture stream.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "../rings/fuzz_check.h"
#include "twofold/rings/shared_memory.h"
#include "twofold/sound/request.h"

namespace {

using namespace twofold::sound;

void check_accepted(const Request& request, const StreamView& view) {
    const StreamOffer& offer = view.offer;
    if (const auto* open = std::get_if<OpenRequest>(&request)) {
        TWOFOLD_FUZZ_CHECK(!view.open);
        TWOFOLD_FUZZ_CHECK(offer.offers_rate(open->params.rate));
        TWOFOLD_FUZZ_CHECK(offer.offers_format(open->params.format));
        TWOFOLD_FUZZ_CHECK(open->params.channels >= offer.channels_min && open->params.channels <= offer.channels_max);
        TWOFOLD_FUZZ_CHECK(open->buffer_bytes > 0 && open->buffer_bytes <= offer.buffer_bytes);
        TWOFOLD_FUZZ_CHECK(open->buffer_bytes % open->params.frame_bytes() == 0);
        TWOFOLD_FUZZ_CHECK(open->period_bytes <= open->buffer_bytes);
        TWOFOLD_FUZZ_CHECK(open->directory != 0);
    } else if (const auto* transfer = std::get_if<TransferRequest>(&request)) {
        TWOFOLD_FUZZ_CHECK(view.open.has_value());
        TWOFOLD_FUZZ_CHECK(transfer->direction == offer.direction);
        TWOFOLD_FUZZ_CHECK(transfer->length > 0);
        TWOFOLD_FUZZ_CHECK(twofold::rings::fits(view.open->buffer_bytes, transfer->offset, transfer->length));
        TWOFOLD_FUZZ_CHECK(transfer->length % view.open->params.frame_bytes() == 0);
    } else if (const auto* control = std::get_if<ControlRequest>(&request)) {
        TWOFOLD_FUZZ_CHECK(view.open.has_value());
        TWOFOLD_FUZZ_CHECK(twofold::rings::fits(view.open->buffer_bytes, control->offset, control->length));
        TWOFOLD_FUZZ_CHECK(control->length == view.open->params.channels ||
                           control->length == view.open->params.channels * sizeof(std::int32_t));
    } else if (const auto* query = std::get_if<HwQueryRequest>(&request)) {
        const auto answer = answer_hw_query(query->wanted, offer);
        if (const auto* params = std::get_if<HwParams>(&answer)) {
            TWOFOLD_FUZZ_CHECK((params->formats & ~offer.formats) == 0 && params->formats != 0);
            TWOFOLD_FUZZ_CHECK((params->formats & ~query->wanted.formats) == 0);
            TWOFOLD_FUZZ_CHECK(params->rates.min <= params->rates.max && params->rates.min >= query->wanted.rates.min &&
                               params->rates.max <= query->wanted.rates.max);
            TWOFOLD_FUZZ_CHECK(params->channels.min >= offer.channels_min && params->channels.max <= offer.channels_max);
            TWOFOLD_FUZZ_CHECK(params->buffer_frames.min <= params->buffer_frames.max);
            TWOFOLD_FUZZ_CHECK(params->buffer_frames.max <= offer.buffer_bytes);
        } else {
            TWOFOLD_FUZZ_CHECK(std::get<Rejection>(answer).status < 0);
        }
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 4) return 0;
    static const CardOffer offer = default_offer(); // constant after first use
    const bool open = (data[0] & 1) != 0;
    const StreamOffer& stream = offer.devices[0].streams[(data[0] & 2) != 0 ? 1 : 0];
    OpenRequest opened;
    opened.params = PcmParams{48000, SampleFormat::S16Le, static_cast<std::uint8_t>(1 + (data[1] & 1))};
    const std::size_t frames = 1 + (data[2] | (std::size_t{data[3]} << 8));
    opened.buffer_bytes = static_cast<std::uint32_t>(std::min<std::size_t>(frames * opened.params.frame_bytes(),
                                                                          stream.buffer_bytes / opened.params.frame_bytes() *
                                                                              opened.params.frame_bytes()));
    opened.directory = 8;
    xensnd_req request{};
    std::memcpy(&request, data + 4, std::min(size - 4, sizeof request));
    const StreamView view{stream, open ? std::optional(opened) : std::nullopt};

    const ParsedRequest parsed = parse_request(request, view);
    TWOFOLD_FUZZ_CHECK(parsed.id == request.id && parsed.operation == request.operation);
    if (const auto* rejection = std::get_if<Rejection>(&parsed.outcome)) {
        TWOFOLD_FUZZ_CHECK(rejection->status < 0 && !rejection->reason.empty());
    } else {
        check_accepted(std::get<Request>(parsed.outcome), view);
    }
    return 0;
}
