// A hostile xen-snd-front against one Stream: every word of the request ring page, the event
// page, the grant directory and the sample buffer rewritten between our wake-ups, requests
// built from fuzz bytes (so OPEN, WRITE, READ... get past the parser often enough), focus
// toggled meanwhile. The stream must never crash or touch memory outside its mappings (ASan),
// and a stream that was never audible must never have opened the sink.
//
// Input: [flags] then 8-byte operations [op][a][b][c][w0][w1][w2][w3]. flags bit 0: capture.
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>

#include <spdlog/sinks/null_sink.h>

#include "../rings/fuzz_check.h"
#include "twofold/loopback/hypervisor.h"
#include "twofold/sound/memory_sink.h"
#include "twofold/sound/stream.h"

namespace {

using namespace twofold;

struct alignas(4096) Page {
    std::array<std::byte, 4096> bytes{};
};

constexpr std::size_t kBufferPages = 4;
constexpr std::array<std::uint32_t, 4> kRates{48000, 44100, 16000, 12345};

void put32(std::span<std::byte> page, std::size_t offset, std::uint32_t value) {
    std::memcpy(page.data() + offset, &value, sizeof value);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 1) return 0;
    static const sound::CardOffer offer = sound::default_offer(); // constant after first use
    const sound::StreamOffer& stream_offer = offer.devices[0].streams[(data[0] & 1) != 0 ? 1 : 0];
    ++data;
    --size;

    loopback::Hypervisor hv;
    const xen::DomId guest = hv.create_domain("fuzz");
    auto dom0 = hv.platform(xen::kDom0);
    auto grants = dom0->open_grant_mapper();
    const auto directory_frame = hv.allocate_pages(guest, 1).front();
    const auto buffer_frames = hv.allocate_pages(guest, kBufferPages);
    const xen::GrantRef directory_ref = hv.grant_access(guest, directory_frame, xen::kDom0, xen::Access::ReadOnly);
    auto directory = hv.frontend_view(guest, directory_frame);
    put32(directory.bytes(), 0, 0);
    for (std::size_t i = 0; i < kBufferPages; ++i) {
        put32(directory.bytes(), 4 + 4 * i, hv.grant_access(guest, buffer_frames[i], xen::kDom0, xen::Access::ReadWrite));
    }
    auto buffer = hv.frontend_view(guest, buffer_frames);

    auto ring = std::make_unique<Page>();
    auto events = std::make_unique<Page>();
    const xen::BoundPort port; // notify() is a no-op: nobody to wake
    sound::MemorySink sink;
    auto log = std::make_shared<spdlog::logger>("fuzz", std::make_shared<spdlog::sinks::null_sink_mt>());
    sound::Stream stream(sound::StreamKey{"fuzz", {0, 0}}, stream_offer, *grants, guest, sink, log);
    stream.attach(xenbus::BoundRing{ring->bytes, &port}, xenbus::BoundRing{events->bytes, &port});

    bool ever_audible = false;
    std::uint32_t req_prod = 0;
    while (size >= 8) {
        const std::uint8_t op = data[0];
        const std::uint8_t a = data[1];
        const std::uint16_t half = static_cast<std::uint16_t>(data[2] | (data[3] << 8));
        std::uint32_t word = 0;
        std::memcpy(&word, data + 4, 4);
        data += 8;
        size -= 8;
        switch (op % 8) {
        case 0: // a raw word anywhere in the ring page (indices included)
            put32(ring->bytes, (half % 1024) * 4, word);
            break;
        case 1: { // a request in the next slot, then req_prod
            xensnd_req request{};
            request.id = half;
            request.operation = static_cast<std::uint8_t>(a % 11);
            if (request.operation == XENSND_OP_OPEN) {
                request.op.open.pcm_rate = kRates[word % kRates.size()];
                request.op.open.pcm_format = (word & 0x10) != 0 ? XENSND_PCM_FORMAT_S16_LE : static_cast<std::uint8_t>(word >> 8);
                request.op.open.pcm_channels = static_cast<std::uint8_t>(1 + ((word >> 5) & 1));
                request.op.open.buffer_sz = (half % (kBufferPages * 4096 / 4) + 1) * 4;
                request.op.open.gref_directory = (word & 0x20) != 0 ? directory_ref : word >> 12;
                request.op.open.period_sz = (word & 0x40) != 0 ? 4 : 0;
            } else if (request.operation == XENSND_OP_TRIGGER) {
                request.op.trigger.type = static_cast<std::uint8_t>(word % 5);
            } else {
                request.op.rw.offset = (word & 0xFFFF) * 4;
                request.op.rw.length = ((word >> 16) % 64) * 4;
            }
            std::memcpy(ring->bytes.data() + 64 + (req_prod % 32) * 64, &request, sizeof request);
            put32(ring->bytes, 0, ++req_prod);
            break;
        }
        case 2: // the guest rewrites its grant directory
            put32(directory.bytes(), (half % 1024) * 4, word);
            break;
        case 3: // ... or its samples while we copy them
            put32(buffer.bytes(), (half % (kBufferPages * 1024)) * 4, word);
            break;
        case 4:
            (void)stream.on_requests(1 + a % 40);
            break;
        case 5:
            stream.set_audible((a & 1) != 0);
            ever_audible = ever_audible || stream.audible();
            break;
        case 6: // event page indices
            put32(events->bytes, (a & 1) * 4, word);
            break;
        case 7:
            stream.on_event_port();
            break;
        }
        if (!ever_audible) TWOFOLD_FUZZ_CHECK(sink.opens() == 0 && sink.total_played() == 0);
    }
    stream.detach();
    TWOFOLD_FUZZ_CHECK(!sink.playing() && !sink.capturing() && !stream.is_open());
    return 0;
}
