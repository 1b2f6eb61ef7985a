#pragma once
// sndif request builders for tests, filled the way xen-snd-front fills them (zeroed, then the
// fields the operation uses).
#include <cstdint>

#include <xen/io/sndif.h>

namespace twofold::sound::testing {

// Request builders, as xen-snd-front fills them (zeroed, then the fields).
inline xensnd_req open_request(std::uint16_t id, std::uint32_t rate, std::uint8_t format, std::uint8_t channels,
                               std::uint32_t buffer_bytes, grant_ref_t directory, std::uint32_t period_bytes) {
    xensnd_req request{};
    request.id = id;
    request.operation = XENSND_OP_OPEN;
    request.op.open.pcm_rate = rate;
    request.op.open.pcm_format = format;
    request.op.open.pcm_channels = channels;
    request.op.open.buffer_sz = buffer_bytes;
    request.op.open.gref_directory = directory;
    request.op.open.period_sz = period_bytes;
    return request;
}
inline xensnd_req rw_request(std::uint16_t id, std::uint8_t operation, std::uint32_t offset, std::uint32_t length) {
    xensnd_req request{};
    request.id = id;
    request.operation = operation;
    request.op.rw.offset = offset;
    request.op.rw.length = length;
    return request;
}
inline xensnd_req trigger_request(std::uint16_t id, std::uint8_t type) {
    xensnd_req request{};
    request.id = id;
    request.operation = XENSND_OP_TRIGGER;
    request.op.trigger.type = type;
    return request;
}
inline xensnd_req simple_request(std::uint16_t id, std::uint8_t operation) {
    xensnd_req request{};
    request.id = id;
    request.operation = operation;
    return request;
}

} // namespace twofold::sound::testing
