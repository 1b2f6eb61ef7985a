#pragma once
// sndif requests (xen/io/sndif.h, "Requests") parsed into validated values. A request is the
// private copy the ring took out of shared memory; parse_request() checks it against the
// stream's offer and, for the operations that address the shared buffer, against the buffer
// the stream was opened with, and returns either one typed request or a Rejection carrying
// the status to answer (-XEN_E*) and why (for the log line). Nothing here touches shared
// memory or keeps state, so every rule is a unit test and the whole parser a fuzz target.
#include <cstdint>
#include <optional>
#include <string>
#include <variant>

#include <xen/io/sndif.h>

#include "twofold/sound/offer.h"
#include "twofold/xen/types.h"
#include "twofold/sound/pcm.h"

namespace twofold::sound {

// Response statuses (xen/errno.h values, negated on the wire).
inline constexpr std::int32_t kStatusOk = 0;
inline constexpr std::int32_t kStatusIo = -5;          // -XEN_EIO
inline constexpr std::int32_t kStatusNoMemory = -12;   // -XEN_ENOMEM
inline constexpr std::int32_t kStatusBusy = -16;       // -XEN_EBUSY
inline constexpr std::int32_t kStatusInvalid = -22;    // -XEN_EINVAL
inline constexpr std::int32_t kStatusNotImplemented = -38; // -XEN_ENOSYS

struct OpenRequest {
    PcmParams params;
    std::uint32_t buffer_bytes = 0; // a whole number of frames, <= the offer's buffer
    std::uint32_t period_bytes = 0; // 0: no position events
    xen::GrantRef directory = 0;    // first page of the grant directory (never 0: reserved)
};
struct CloseRequest {};
// READ (capture) or WRITE (playback): a range of the shared buffer, whole frames.
struct TransferRequest {
    Direction direction = Direction::Playback;
    std::uint32_t offset = 0;
    std::uint32_t length = 0;
};
// SET/GET_VOLUME (an int32 per channel) and MUTE/UNMUTE (a byte per channel) in the buffer.
enum class ControlOp : std::uint8_t { SetVolume, GetVolume, Mute, Unmute };
struct ControlRequest {
    ControlOp op = ControlOp::SetVolume;
    std::uint32_t offset = 0;
    std::uint32_t length = 0;
};
enum class TriggerType : std::uint8_t { Start, Pause, Stop, Resume };
struct TriggerRequest {
    TriggerType type = TriggerType::Start;
};
// An interval a HW_PARAM_QUERY narrows (min <= max once validated).
struct Interval {
    std::uint32_t min = 0;
    std::uint32_t max = 0;
    friend bool operator==(const Interval&, const Interval&) = default;
};
struct HwParams {
    FormatMask formats = 0;
    Interval rates;
    Interval channels;
    Interval buffer_frames;
    Interval period_frames;
    friend bool operator==(const HwParams&, const HwParams&) = default;
};
struct HwQueryRequest {
    HwParams wanted;
};

using Request = std::variant<OpenRequest, CloseRequest, TransferRequest, ControlRequest, TriggerRequest, HwQueryRequest>;

struct Rejection {
    std::int32_t status = kStatusInvalid;
    std::string reason;
};

// The stream as the parser needs to know it.
struct StreamView {
    const StreamOffer& offer;
    // Set while the stream is open: what OPEN set up.
    std::optional<OpenRequest> open;
};

struct ParsedRequest {
    std::uint16_t id = 0;        // echoed in the response whatever the outcome
    std::uint8_t operation = 0;  // echoed too (the guest's byte, even when unknown)
    std::variant<Request, Rejection> outcome;
};

[[nodiscard]] ParsedRequest parse_request(const xensnd_req& untrusted, const StreamView& stream);

// What the offer allows within `wanted` (HW_PARAM_QUERY's answer); a Rejection when nothing
// is left (an empty intersection of formats, rates, channels or sizes).
[[nodiscard]] std::variant<HwParams, Rejection> answer_hw_query(const HwParams& wanted, const StreamOffer& offer);

} // namespace twofold::sound
