#include "twofold/sound/vsnd_device.h"

#include <array>

#include "twofold/xenbus/xenstore_values.h"

namespace twofold::sound {

namespace {

std::string stream_dir(StreamIndex index) { return std::to_string(index.pcm) + "/" + std::to_string(index.stream) + "/"; }

constexpr std::array<std::string_view, 2> kStreamTypes{XENSND_STREAM_TYPE_PLAYBACK, XENSND_STREAM_TYPE_CAPTURE};

} // namespace

VsndDevice::VsndDevice(std::string persona, const CardOffer& offer, xen::GrantMapper& grants, xen::DomId frontend,
                       Sink& sink, std::shared_ptr<spdlog::logger> log)
    : persona_(std::move(persona)), offer_(offer), log_(std::move(log)) {
    for (std::size_t p = 0; p < offer_.devices.size(); ++p) {
        for (std::size_t s = 0; s < offer_.devices[p].streams.size(); ++s) {
            const StreamIndex index{static_cast<std::uint8_t>(p), static_cast<std::uint8_t>(s)};
            indices_.push_back(index);
            streams_.push_back(std::make_unique<Stream>(StreamKey{persona_, index}, offer_.devices[p].streams[s], grants,
                                                        frontend, sink, log_));
        }
    }
}

VsndDevice::~VsndDevice() { on_closing(); }

std::vector<xenbus::RingSpec> VsndDevice::ring_specs() const {
    std::vector<xenbus::RingSpec> specs;
    for (const StreamIndex index : indices_) {
        const std::string dir = stream_dir(index);
        xenbus::RingSpec requests;
        requests.ring_ref_node = dir + XENSND_FIELD_RING_REF;
        requests.port_node = dir + XENSND_FIELD_EVT_CHNL;
        xenbus::RingSpec events;
        events.ring_ref_node = dir + XENSND_FIELD_EVT_RING_REF;
        events.port_node = dir + XENSND_FIELD_EVT_EVT_CHNL;
        specs.push_back(std::move(requests));
        specs.push_back(std::move(events));
    }
    return specs;
}

std::vector<std::pair<std::string, std::string>> VsndDevice::backend_nodes() const {
    // sndif protocol version 2 (HW_PARAM_QUERY); the frontend picks from this list.
    return {{XENSND_FIELD_BE_VERSIONS, std::to_string(XENSND_PROTOCOL_VERSION)}};
}

xenbus::Result<void> VsndDevice::on_bind(const xenbus::BindContext& context) {
    if (context.rings.size() != 2 * streams_.size()) return xenbus::Error{"ring count does not match the offer"};
    for (const auto& ring : context.rings) {
        if (ring.bytes.size() < xen::kPageSize) return xenbus::Error{"shared page mapping too small"};
    }
    for (std::size_t i = 0; i < streams_.size(); ++i) {
        auto type = context.frontend.read(stream_dir(indices_[i]) + XENSND_FIELD_TYPE,
                                          [](std::string_view s) { return xenbus::parse_name_in_set(s, kStreamTypes); });
        if (!type) return type.error();
        if (type.value().name != xenstore_type(streams_[i]->offer().direction)) {
            return xenbus::Error{"stream " + stream_dir(indices_[i]) + " type differs from the offer"};
        }
    }
    for (std::size_t i = 0; i < streams_.size(); ++i) streams_[i]->attach(context.rings[2 * i], context.rings[2 * i + 1]);
    bound_ = true;
    log_->info("vsnd {}: connected, {} streams", persona_, streams_.size());
    return {};
}

xenbus::ServiceOutcome VsndDevice::on_ring_event(std::size_t index, std::size_t budget) {
    if (!bound_ || index / 2 >= streams_.size()) return {};
    Stream& stream = *streams_[index / 2];
    if (index % 2 == 1) {
        // The event page is ours to write; its port firing asks nothing of us.
        stream.on_event_port();
        return {};
    }
    return stream.on_requests(budget);
}

void VsndDevice::on_closing() noexcept {
    for (auto& stream : streams_) stream->detach();
    bound_ = false;
}

void VsndDevice::set_audible(bool audible) {
    for (auto& stream : streams_) stream->set_audible(audible);
}

} // namespace twofold::sound
