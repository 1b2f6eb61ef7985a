#pragma once
// The vsnd backend for one frontend (Linux xen-snd-front), as a xenbus Device: one Stream per
// stream of the offer, each with two rings (the request ring at <pcm>/<stream>/ring-ref +
// event-channel, the event page at evt-ring-ref + evt-event-channel). The frontend's "type"
// node of each stream must say what the offer says ("p" or "c"): a guest that rewrote its
// configuration is refused rather than served something else.
#include <cstddef>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <spdlog/logger.h>

#include "twofold/sound/offer.h"
#include "twofold/sound/sink.h"
#include "twofold/sound/stream.h"
#include "twofold/xenbus/device.h"

namespace twofold::sound {

class VsndDevice final : public xenbus::Device {
public:
    // `offer` must outlive the device (the backend's).
    VsndDevice(std::string persona, const CardOffer& offer, xen::GrantMapper& grants, xen::DomId frontend, Sink& sink,
               std::shared_ptr<spdlog::logger> log);
    ~VsndDevice() override;

    [[nodiscard]] std::vector<xenbus::RingSpec> ring_specs() const override;
    [[nodiscard]] std::vector<std::pair<std::string, std::string>> backend_nodes() const override;
    xenbus::Result<void> on_bind(const xenbus::BindContext& context) override;
    xenbus::ServiceOutcome on_event(std::size_t budget) override { return on_ring_event(0, budget); }
    xenbus::ServiceOutcome on_ring_event(std::size_t index, std::size_t budget) override;
    void on_closing() noexcept override;

    void set_audible(bool audible);
    [[nodiscard]] const std::string& persona() const noexcept { return persona_; }
    [[nodiscard]] bool bound() const noexcept { return bound_; }
    [[nodiscard]] std::size_t stream_count() const noexcept { return streams_.size(); }
    [[nodiscard]] const Stream& stream(std::size_t i) const { return *streams_.at(i); }

private:
    std::string persona_;
    const CardOffer& offer_;
    std::shared_ptr<spdlog::logger> log_;
    std::vector<StreamIndex> indices_;
    std::vector<std::unique_ptr<Stream>> streams_;
    bool bound_ = false;
};

} // namespace twofold::sound
