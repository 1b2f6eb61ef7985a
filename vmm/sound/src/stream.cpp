#include "twofold/sound/stream.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <exception>

#include "twofold/rings/fault.h"
#include "twofold/rings/shared_memory.h"
#include "twofold/xenbus/xenstore_values.h"

namespace twofold::sound {

static_assert(sizeof(xensnd_req) == 64 && sizeof(xensnd_resp) == 64 && sizeof(xensnd_evt) == 64);
static_assert(XENSND_IN_RING_OFFS == 64 && XENSND_IN_RING_LEN == 63);

namespace {

// Log lines for rejected requests: the first, then at most one a second per stream (a guest
// can send a ring full of garbage at every wake-up).
constexpr std::chrono::seconds kRejectionLogPeriod{1};

} // namespace

Stream::Stream(StreamKey key, const StreamOffer& offer, xen::GrantMapper& grants, xen::DomId frontend, Sink& sink,
               std::shared_ptr<spdlog::logger> log)
    : key_(std::move(key)), offer_(offer), grants_(grants), frontend_(frontend), sink_(sink), log_(std::move(log)) {}

Stream::~Stream() { detach(); }

void Stream::attach(xenbus::BoundRing requests, xenbus::BoundRing events) {
    ring_.emplace(requests.bytes.first(xen::kPageSize));
    events_.emplace(events.bytes.first(xen::kPageSize), kSndEventRing);
    request_port_ = requests.port;
    event_port_ = events.port;
    // A new connection: xen-snd-front counts event ids from 0 on every freshly shared page.
    next_event_id_ = 0;
}

void Stream::detach() noexcept {
    sink_stream_.reset();
    open_.reset();
    events_.reset();
    ring_.reset();
    request_port_ = nullptr;
    event_port_ = nullptr;
}

void Stream::set_audible(bool audible) {
    audible_ = audible;
    // Closed at once: the foreground persona's stream may open the device next.
    if (!audible_) sink_stream_.reset();
}

xenbus::ServiceOutcome Stream::on_requests(std::size_t budget) {
    xenbus::ServiceOutcome outcome;
    if (!ring_) return outcome;
    const auto result = ring_->process(budget, [this](const xensnd_req& request, xensnd_resp& response) noexcept {
        handle(request, response);
    });
    outcome.processed = result.processed;
    outcome.more_pending = result.more_pending;
    if (result.fault) {
        outcome.error = "request ring: " + std::string(rings::describe(*result.fault));
        return outcome;
    }
    if (result.notify && request_port_ != nullptr) request_port_->notify();
    return outcome;
}

void Stream::handle(const xensnd_req& request, xensnd_resp& response) noexcept {
    ++counters_.requests;
    try {
        const ParsedRequest parsed = parse_request(request, StreamView{offer_, open_ ? std::optional(open_->request) : std::nullopt});
        response.id = parsed.id;
        response.operation = parsed.operation;
        if (const auto* rejection = std::get_if<Rejection>(&parsed.outcome)) {
            note_rejection(parsed, *rejection);
            response.status = rejection->status;
            return;
        }
        response.status = apply(std::get<Request>(parsed.outcome), response);
    } catch (const std::exception& e) {
        // Our own failure (allocation, a mapping the hypervisor refused): the request fails,
        // the stream goes on.
        ++counters_.rejected;
        response.id = request.id;
        response.operation = request.operation;
        response.status = kStatusIo;
        log_->warn("vsnd {} {}/{}: request failed: {}", key_.persona, key_.index.pcm, key_.index.stream, e.what());
    }
}

void Stream::note_rejection(const ParsedRequest& parsed, const Rejection& rejection) {
    ++counters_.rejected;
    const auto now = std::chrono::steady_clock::now();
    if (last_rejection_log_ && now - *last_rejection_log_ < kRejectionLogPeriod) return;
    last_rejection_log_ = now;
    log_->warn("vsnd {} {}/{}: refused request (operation {}): {} ({} refused so far)", key_.persona, key_.index.pcm,
               key_.index.stream, parsed.operation, rejection.reason, counters_.rejected);
}

std::int32_t Stream::apply(const Request& request, xensnd_resp& response) {
    if (const auto* open_request = std::get_if<OpenRequest>(&request)) return open(*open_request);
    if (std::holds_alternative<CloseRequest>(request)) {
        sink_stream_.reset();
        open_.reset(); // unmaps the buffer
        return kStatusOk;
    }
    if (const auto* transfer_request = std::get_if<TransferRequest>(&request)) return transfer(*transfer_request);
    if (const auto* control_request = std::get_if<ControlRequest>(&request)) return control(*control_request);
    if (const auto* trigger = std::get_if<TriggerRequest>(&request)) {
        open_->running = trigger->type == TriggerType::Start || trigger->type == TriggerType::Resume;
        return kStatusOk;
    }
    const auto& query = std::get<HwQueryRequest>(request);
    const auto answer = answer_hw_query(query.wanted, offer_);
    if (const auto* rejection = std::get_if<Rejection>(&answer)) return rejection->status;
    const auto& params = std::get<HwParams>(answer);
    response.resp.hw_param.formats = params.formats;
    response.resp.hw_param.rates.min = params.rates.min;
    response.resp.hw_param.rates.max = params.rates.max;
    response.resp.hw_param.channels.min = params.channels.min;
    response.resp.hw_param.channels.max = params.channels.max;
    response.resp.hw_param.buffer.min = params.buffer_frames.min;
    response.resp.hw_param.buffer.max = params.buffer_frames.max;
    response.resp.hw_param.period.min = params.period_frames.min;
    response.resp.hw_param.period.max = params.period_frames.max;
    return kStatusOk;
}

xen::MappedPages Stream::map_buffer(const OpenRequest& request) {
    const std::size_t pages = (request.buffer_bytes + xen::kPageSize - 1) / xen::kPageSize;
    std::vector<xen::GrantRef> refs;
    refs.reserve(pages);
    grant_ref_t next = request.directory;
    // Each directory page names up to 1023 buffer pages; the chain can be no longer than the
    // buffer needs, so a guest's looping or endless chain ends here.
    const std::size_t directory_pages = (pages + kGrantsPerDirectoryPage - 1) / kGrantsPerDirectoryPage;
    for (std::size_t d = 0; d < directory_pages; ++d) {
        if (next == 0 || next > xenbus::kMaxGrantRef) throw std::runtime_error("grant directory ends before the buffer");
        std::array<grant_ref_t, xen::kPageSize / sizeof(grant_ref_t)> directory{};
        {
            const std::array<xen::GrantRef, 1> page_ref{next};
            const xen::MappedPages page = grants_.map(frontend_, page_ref, xen::Access::ReadOnly);
            if (page.size() < xen::kPageSize) throw std::runtime_error("grant directory page mapping too small");
            rings::copy_from_shared(std::as_writable_bytes(std::span(directory)), page.bytes().first(xen::kPageSize));
        }
        next = directory[0];
        const std::size_t take = std::min(kGrantsPerDirectoryPage, pages - refs.size());
        for (std::size_t i = 0; i < take; ++i) {
            const grant_ref_t ref = directory[1 + i];
            if (ref == 0 || ref > xenbus::kMaxGrantRef) throw std::runtime_error("invalid grant reference in the directory");
            refs.push_back(ref);
        }
    }
    // Read-write: capture and GET_VOLUME write into the buffer.
    xen::MappedPages buffer = grants_.map(frontend_, refs, xen::Access::ReadWrite);
    if (buffer.size() < request.buffer_bytes) throw std::runtime_error("buffer mapping too small");
    return buffer;
}

std::int32_t Stream::open(const OpenRequest& request) {
    Open state;
    try {
        state.buffer = map_buffer(request);
    } catch (const std::exception& e) {
        // The guest's grants: a refusal is its fault, logged like any other bad request.
        ++counters_.rejected;
        log_->warn("vsnd {} {}/{}: OPEN refused: {}", key_.persona, key_.index.pcm, key_.index.stream, e.what());
        return kStatusInvalid;
    }
    state.request = request;
    state.volume.assign(request.params.channels, 0);
    state.muted.assign(request.params.channels, false);
    open_.emplace(std::move(state));
    scratch_.reserve(request.buffer_bytes);
    log_->info("vsnd {} {}/{}: opened {} {} Hz, {}, {} channels, {}-byte buffer", key_.persona, key_.index.pcm,
               key_.index.stream, to_string(offer_.direction), request.params.rate, xenstore_name(request.params.format),
               request.params.channels, request.buffer_bytes);
    return kStatusOk;
}

bool Stream::ensure_sink() {
    if (!audible_) return false;
    if (!sink_stream_) sink_stream_ = sink_.open(key_, offer_.direction, open_->request.params);
    return sink_stream_ != nullptr;
}

void Stream::silence_muted(std::span<std::byte> frames) const noexcept {
    const std::size_t sample = bytes_per_sample(open_->request.params.format);
    const std::size_t channels = open_->muted.size();
    if (std::none_of(open_->muted.begin(), open_->muted.end(), [](bool m) { return m; })) return;
    for (std::size_t at = 0; at + sample * channels <= frames.size(); at += sample * channels) {
        for (std::size_t c = 0; c < channels; ++c) {
            if (open_->muted[c]) std::memset(frames.data() + at + c * sample, 0, sample);
        }
    }
}

std::int32_t Stream::transfer(const TransferRequest& request) {
    const std::span<std::byte> range = open_->buffer.bytes().subspan(request.offset, request.length);
    scratch_.resize(request.length);
    if (request.direction == Direction::Playback) {
        rings::copy_from_shared(scratch_, range); // the one read of these samples
        silence_muted(scratch_);
        if (ensure_sink()) {
            const std::size_t taken = sink_stream_->write(scratch_);
            counters_.bytes_played += taken;
            counters_.bytes_dropped += request.length - taken;
        } else {
            counters_.bytes_silenced += request.length;
        }
    } else {
        std::fill(scratch_.begin(), scratch_.end(), std::byte{0});
        // Silence unless this persona is audible: the microphone never reaches the background.
        const std::size_t filled = ensure_sink() ? sink_stream_->read(scratch_) : 0;
        counters_.bytes_captured += filled;
        counters_.bytes_silence += request.length - filled;
        silence_muted(scratch_);
        rings::copy_to_shared(range, scratch_);
    }
    advance(request.length);
    return kStatusOk;
}

std::int32_t Stream::control(const ControlRequest& request) {
    const std::span<std::byte> range = open_->buffer.bytes().subspan(request.offset, request.length);
    scratch_.resize(request.length);
    switch (request.op) {
    case ControlOp::SetVolume:
        rings::copy_from_shared(scratch_, range);
        std::memcpy(open_->volume.data(), scratch_.data(), scratch_.size());
        return kStatusOk;
    case ControlOp::GetVolume:
        std::memcpy(scratch_.data(), open_->volume.data(), scratch_.size());
        rings::copy_to_shared(range, scratch_);
        return kStatusOk;
    case ControlOp::Mute:
    case ControlOp::Unmute:
        rings::copy_from_shared(scratch_, range);
        for (std::size_t c = 0; c < scratch_.size(); ++c) {
            if (scratch_[c] != std::byte{0}) open_->muted[c] = request.op == ControlOp::Mute;
        }
        return kStatusOk;
    }
    return kStatusInvalid;
}

void Stream::advance(std::uint32_t length) {
    open_->position += length;
    if (open_->request.period_bytes == 0 || !events_) return;
    const std::uint64_t position = open_->position;
    const std::uint16_t id = next_event_id_;
    const auto status = events_->push([position, id](xensnd_evt& event) noexcept {
        event.id = id;
        event.type = XENSND_EVT_CUR_POS;
        event.op.cur_pos.position = position;
    });
    if (status == rings::PushStatus::pushed) {
        // Only published events take an id: xen-snd-front ignores every event after a gap in
        // the ids (it expects each one to be its previous plus one), for the whole connection.
        ++next_event_id_;
        ++counters_.events_sent;
        if (event_port_ != nullptr) event_port_->notify();
    } else {
        // Full (the next event carries the newer position anyway) or an impossible in_cons
        // written by the guest: no more events reach it, requests are still answered.
        ++counters_.events_dropped;
    }
}

} // namespace twofold::sound
