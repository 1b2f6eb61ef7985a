#include "twofold/sound/request.h"

#include <algorithm>
#include <limits>

#include "twofold/rings/shared_memory.h"
#include "twofold/xenbus/xenstore_values.h"

namespace twofold::sound {
namespace {

Rejection reject(std::string reason, std::int32_t status = kStatusInvalid) { return Rejection{status, std::move(reason)}; }

std::variant<Request, Rejection> parse_open(const xensnd_open_req& open, const StreamView& stream) {
    if (stream.open) return reject("OPEN of a stream that is already open", kStatusBusy);
    const StreamOffer& offer = stream.offer;
    if (!offer.offers_rate(open.pcm_rate)) return reject("rate " + std::to_string(open.pcm_rate) + " not offered");
    const auto format = format_from_code(open.pcm_format);
    if (!format || !offer.offers_format(*format)) {
        return reject("format " + std::to_string(open.pcm_format) + " not offered");
    }
    if (open.pcm_channels < offer.channels_min || open.pcm_channels > offer.channels_max) {
        return reject("channel count " + std::to_string(open.pcm_channels) + " not offered");
    }
    OpenRequest request;
    request.params = PcmParams{open.pcm_rate, *format, open.pcm_channels};
    const std::size_t frame = request.params.frame_bytes();
    if (open.buffer_sz == 0 || open.buffer_sz > offer.buffer_bytes) {
        return reject("buffer of " + std::to_string(open.buffer_sz) + " bytes outside 1.." +
                      std::to_string(offer.buffer_bytes));
    }
    if (open.buffer_sz % frame != 0) return reject("buffer is not a whole number of frames");
    if (open.period_sz > open.buffer_sz || open.period_sz % frame != 0) {
        return reject("period of " + std::to_string(open.period_sz) + " bytes is not whole frames within the buffer");
    }
    // Grant reference 0 is never a PV driver's (sndif.h, "Assumptions").
    if (open.gref_directory == 0 || open.gref_directory > xenbus::kMaxGrantRef) {
        return reject("grant directory reference " + std::to_string(open.gref_directory) + " is invalid");
    }
    request.buffer_bytes = open.buffer_sz;
    request.period_bytes = open.period_sz;
    request.directory = open.gref_directory;
    return request;
}

// The range [offset, offset + length) of the open buffer, checked without overflow.
std::optional<Rejection> check_range(const OpenRequest& open, std::uint32_t offset, std::uint32_t length) {
    if (length == 0) return reject("empty range");
    if (!rings::fits(open.buffer_bytes, offset, length)) {
        return reject("range " + std::to_string(offset) + "+" + std::to_string(length) + " outside the " +
                      std::to_string(open.buffer_bytes) + "-byte buffer");
    }
    return std::nullopt;
}

std::variant<Request, Rejection> parse_transfer(const xensnd_rw_req& rw, Direction direction, const StreamView& stream) {
    if (!stream.open) return reject(std::string(direction == Direction::Playback ? "WRITE" : "READ") + " of a closed stream");
    if (stream.offer.direction != direction) {
        return reject(std::string(direction == Direction::Playback ? "WRITE to a capture" : "READ from a playback") +
                      " stream");
    }
    if (auto bad = check_range(*stream.open, rw.offset, rw.length)) return *bad;
    const std::size_t frame = stream.open->params.frame_bytes();
    if (rw.offset % frame != 0 || rw.length % frame != 0) return reject("transfer is not whole frames");
    return TransferRequest{direction, rw.offset, rw.length};
}

std::variant<Request, Rejection> parse_control(const xensnd_rw_req& rw, ControlOp op, const StreamView& stream) {
    if (!stream.open) return reject("volume or mute request on a closed stream");
    if (auto bad = check_range(*stream.open, rw.offset, rw.length)) return *bad;
    // One int32 volume or one mute byte per channel, nothing else.
    const bool volume = op == ControlOp::SetVolume || op == ControlOp::GetVolume;
    const std::size_t expected = stream.open->params.channels * (volume ? sizeof(std::int32_t) : 1U);
    if (rw.length != expected) {
        return reject("control length " + std::to_string(rw.length) + ", expected " + std::to_string(expected));
    }
    if (volume && rw.offset % alignof(std::int32_t) != 0) return reject("volume values not aligned");
    return ControlRequest{op, rw.offset, rw.length};
}

std::variant<Request, Rejection> parse_trigger(const xensnd_trigger_req& trigger, const StreamView& stream) {
    if (!stream.open) return reject("TRIGGER of a closed stream");
    switch (trigger.type) {
    case XENSND_OP_TRIGGER_START: return TriggerRequest{TriggerType::Start};
    case XENSND_OP_TRIGGER_PAUSE: return TriggerRequest{TriggerType::Pause};
    case XENSND_OP_TRIGGER_STOP: return TriggerRequest{TriggerType::Stop};
    case XENSND_OP_TRIGGER_RESUME: return TriggerRequest{TriggerType::Resume};
    default: return reject("unknown trigger type " + std::to_string(trigger.type));
    }
}

std::variant<Request, Rejection> parse_query(const xensnd_query_hw_param& query) {
    HwParams wanted;
    wanted.formats = query.formats;
    wanted.rates = Interval{query.rates.min, query.rates.max};
    wanted.channels = Interval{query.channels.min, query.channels.max};
    wanted.buffer_frames = Interval{query.buffer.min, query.buffer.max};
    wanted.period_frames = Interval{query.period.min, query.period.max};
    for (const Interval& interval : {wanted.rates, wanted.channels, wanted.buffer_frames, wanted.period_frames}) {
        if (interval.min > interval.max) return reject("query interval with min > max");
    }
    return HwQueryRequest{wanted};
}

Interval intersect(Interval a, Interval b) { return Interval{std::max(a.min, b.min), std::min(a.max, b.max)}; }

} // namespace

ParsedRequest parse_request(const xensnd_req& untrusted, const StreamView& stream) {
    ParsedRequest parsed;
    parsed.id = untrusted.id;
    parsed.operation = untrusted.operation;
    switch (untrusted.operation) {
    case XENSND_OP_OPEN: parsed.outcome = parse_open(untrusted.op.open, stream); break;
    case XENSND_OP_CLOSE: parsed.outcome = Request{CloseRequest{}}; break;
    case XENSND_OP_WRITE: parsed.outcome = parse_transfer(untrusted.op.rw, Direction::Playback, stream); break;
    case XENSND_OP_READ: parsed.outcome = parse_transfer(untrusted.op.rw, Direction::Capture, stream); break;
    case XENSND_OP_SET_VOLUME: parsed.outcome = parse_control(untrusted.op.rw, ControlOp::SetVolume, stream); break;
    case XENSND_OP_GET_VOLUME: parsed.outcome = parse_control(untrusted.op.rw, ControlOp::GetVolume, stream); break;
    case XENSND_OP_MUTE: parsed.outcome = parse_control(untrusted.op.rw, ControlOp::Mute, stream); break;
    case XENSND_OP_UNMUTE: parsed.outcome = parse_control(untrusted.op.rw, ControlOp::Unmute, stream); break;
    case XENSND_OP_TRIGGER: parsed.outcome = parse_trigger(untrusted.op.trigger, stream); break;
    case XENSND_OP_HW_PARAM_QUERY: parsed.outcome = parse_query(untrusted.op.hw_param); break;
    default:
        parsed.outcome = reject("unknown operation " + std::to_string(untrusted.operation), kStatusNotImplemented);
        break;
    }
    return parsed;
}

std::variant<HwParams, Rejection> answer_hw_query(const HwParams& wanted, const StreamOffer& offer) {
    HwParams answer;
    answer.formats = wanted.formats & offer.formats;
    if (answer.formats == 0) return reject("no offered format in the query");
    const auto [rate_min, rate_max] = std::minmax_element(offer.rates.begin(), offer.rates.end());
    answer.rates = intersect(wanted.rates, Interval{*rate_min, *rate_max});
    answer.channels = intersect(wanted.channels, Interval{offer.channels_min, offer.channels_max});
    if (answer.rates.min > answer.rates.max || answer.channels.min > answer.channels.max) {
        return reject("no offered rate or channel count in the query");
    }
    // Frames the offered buffer holds at the smallest frame the answer still allows.
    std::size_t smallest_sample = std::numeric_limits<std::size_t>::max();
    for (std::uint8_t code = 0; code <= kMaxServedFormatCode; ++code) {
        const auto format = format_from_code(code);
        if (format && (answer.formats & mask_of(*format)) != 0) smallest_sample = std::min(smallest_sample, bytes_per_sample(*format));
    }
    const auto max_frames = static_cast<std::uint32_t>(offer.buffer_bytes / (smallest_sample * answer.channels.min));
    answer.buffer_frames = intersect(wanted.buffer_frames, Interval{1, max_frames});
    answer.period_frames = intersect(wanted.period_frames, Interval{1, max_frames});
    if (answer.buffer_frames.min > answer.buffer_frames.max || answer.period_frames.min > answer.period_frames.max) {
        return reject("no offered buffer or period size in the query");
    }
    return answer;
}

} // namespace twofold::sound
