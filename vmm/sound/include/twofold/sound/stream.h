#pragma once
// One sndif stream of one frontend: its request ring, its event page, and while the guest
// has it open, the grant-mapped sample buffer. Each request is copied out of the ring once
// (rings::BackRing), parsed into a validated value (request.h) and only then acted on; a bad
// one is answered with an error status and a rate-limited log line, never followed. Samples
// are copied out of (playback) or into (capture) the shared buffer once per request, so the
// guest rewriting its buffer meanwhile changes only which samples it plays.
//
// Audibility is the focus hook: an audible stream (its persona is the foreground) opens a
// SinkStream on its first transfer; an inaudible one closes it at once, and from then on its
// writes are consumed and acknowledged but reach no sink (silenced, counted), and its reads
// return silence, never the microphone. The guest sees the same responses and position events
// either way, so a background persona's audio stack neither stalls nor learns the foreground.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include <spdlog/logger.h>

#include "twofold/rings/back_ring.h"
#include "twofold/rings/event_ring.h"
#include "twofold/sound/request.h"
#include "twofold/sound/sink.h"
#include "twofold/xen/event_channel.h"
#include "twofold/xen/mapped_pages.h"
#include "twofold/xen/memory.h"
#include "twofold/xenbus/device.h"

namespace twofold::sound {

// sndif's event page: in_cons at 0, in_prod at 4, 63 slots of 64 bytes from offset 64.
inline constexpr rings::EventRingGeometry kSndEventRing{XENSND_IN_RING_OFFS, XENSND_IN_RING_LEN,
                                                        sizeof(xensnd_evt), 0, 4};
// Grant references in one page of the buffer's grant directory (after gref_dir_next_page).
inline constexpr std::size_t kGrantsPerDirectoryPage = (xen::kPageSize - sizeof(grant_ref_t)) / sizeof(grant_ref_t);

struct StreamCounters {
    std::size_t requests = 0;
    std::size_t rejected = 0;
    std::size_t bytes_played = 0;    // reached the sink
    std::size_t bytes_silenced = 0;  // written while not audible: consumed, played nowhere
    std::size_t bytes_dropped = 0;   // audible, but the sink did not take them
    std::size_t bytes_captured = 0;  // came from the sink's capture
    std::size_t bytes_silence = 0;   // capture answered with silence (not audible, no device)
    std::size_t events_sent = 0;
    std::size_t events_dropped = 0;  // the guest had not consumed its event page
    std::size_t event_port_kicks = 0; // notifications on the event page's port (nothing to do)
};

class Stream {
public:
    Stream(StreamKey key, const StreamOffer& offer, xen::GrantMapper& grants, xen::DomId frontend, Sink& sink,
           std::shared_ptr<spdlog::logger> log);
    ~Stream();
    Stream(const Stream&) = delete;
    Stream& operator=(const Stream&) = delete;

    // The frontend's request ring and event page are mapped (valid until detach()).
    void attach(xenbus::BoundRing requests, xenbus::BoundRing events);
    // Closes the stream (buffer unmapped, sink stream closed) and drops the ring views.
    void detach() noexcept;

    // The request port fired: at most `budget` requests. A non-empty error closes the frontend.
    xenbus::ServiceOutcome on_requests(std::size_t budget);
    void on_event_port() noexcept { ++counters_.event_port_kicks; }

    void set_audible(bool audible);
    [[nodiscard]] bool audible() const noexcept { return audible_; }
    [[nodiscard]] bool is_open() const noexcept { return open_.has_value(); }
    [[nodiscard]] bool running() const noexcept { return open_ && open_->running; }
    [[nodiscard]] bool sink_open() const noexcept { return sink_stream_ != nullptr; }
    [[nodiscard]] const StreamKey& key() const noexcept { return key_; }
    [[nodiscard]] const StreamOffer& offer() const noexcept { return offer_; }
    [[nodiscard]] const StreamCounters& counters() const noexcept { return counters_; }

private:
    struct Open {
        OpenRequest request;
        xen::MappedPages buffer;
        std::uint64_t position = 0; // octets played or captured since OPEN
        bool running = false;
        std::vector<std::int32_t> volume;
        std::vector<bool> muted;
    };

    void handle(const xensnd_req& request, xensnd_resp& response) noexcept;
    std::int32_t apply(const Request& request, xensnd_resp& response);
    std::int32_t open(const OpenRequest& request);
    std::int32_t transfer(const TransferRequest& request);
    std::int32_t control(const ControlRequest& request);
    xen::MappedPages map_buffer(const OpenRequest& request);
    void silence_muted(std::span<std::byte> frames) const noexcept;
    void advance(std::uint32_t length);
    bool ensure_sink();
    void note_rejection(const ParsedRequest& parsed, const Rejection& rejection);

    StreamKey key_;
    const StreamOffer& offer_;
    xen::GrantMapper& grants_;
    xen::DomId frontend_;
    Sink& sink_;
    std::shared_ptr<spdlog::logger> log_;
    std::optional<rings::BackRing<xensnd_req, xensnd_resp>> ring_;
    std::optional<rings::EventProducer<xensnd_evt>> events_;
    const xen::BoundPort* request_port_ = nullptr;
    const xen::BoundPort* event_port_ = nullptr;
    std::optional<Open> open_;
    std::unique_ptr<SinkStream> sink_stream_;
    bool audible_ = false;
    std::uint16_t next_event_id_ = 0;
    std::vector<std::byte> scratch_; // the private copy of one transfer
    StreamCounters counters_;
    std::optional<std::chrono::steady_clock::time_point> last_rejection_log_;
};

} // namespace twofold::sound
