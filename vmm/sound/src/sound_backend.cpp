#include "twofold/sound/sound_backend.h"

#include <stdexcept>

#include "twofold/xen/error.h"
#include "twofold/xenbus/device_paths.h"
#include "twofold/xenbus/xenstore_values.h"

namespace twofold::sound {

// A VsndDevice the backend can reach for focus changes while the service owns it: registered
// for exactly its lifetime, so the set never holds a destroyed device.
class SoundBackend::TrackedDevice final : public xenbus::Device {
public:
    TrackedDevice(SoundBackend& backend, std::unique_ptr<VsndDevice> device)
        : backend_(backend), device_(std::move(device)) {
        backend_.devices_.insert(device_.get());
    }
    ~TrackedDevice() override { backend_.devices_.erase(device_.get()); }
    TrackedDevice(const TrackedDevice&) = delete;
    TrackedDevice& operator=(const TrackedDevice&) = delete;

    [[nodiscard]] std::vector<xenbus::RingSpec> ring_specs() const override { return device_->ring_specs(); }
    [[nodiscard]] std::vector<std::pair<std::string, std::string>> backend_nodes() const override {
        return device_->backend_nodes();
    }
    xenbus::Result<void> on_bind(const xenbus::BindContext& context) override { return device_->on_bind(context); }
    xenbus::ServiceOutcome on_event(std::size_t budget) override { return device_->on_event(budget); }
    xenbus::ServiceOutcome on_ring_event(std::size_t index, std::size_t budget) override {
        return device_->on_ring_event(index, budget);
    }
    void on_closing() noexcept override { device_->on_closing(); }

private:
    SoundBackend& backend_;
    std::unique_ptr<VsndDevice> device_;
};

SoundBackend::SoundBackend(xen::Platform& platform, SoundBackendConfig config, Sink& sink,
                           std::shared_ptr<spdlog::logger> log, AuditSink audit)
    : config_(std::move(config)), sink_(sink), log_(std::move(log)), audit_(std::move(audit)),
      runtime_(platform, log_, config_.budget_per_wake),
      service_(runtime_.services(), runtime_.own_domid(), xenbus::DeviceType::Vsnd,
               [this](const xenbus::DevicePaths& paths) { return make_device(paths); }) {
    validate(config_.offer);
    if (config_.personas.empty()) throw std::invalid_argument("sound backend: no persona configured");
    for (const auto& name : config_.personas) {
        if (!focus::is_valid_name(name)) throw std::invalid_argument("sound backend: invalid persona name '" + name + "'");
    }
}

// The service (and with it every device) goes before the set it unregisters from.
SoundBackend::~SoundBackend() = default;

std::optional<std::string> SoundBackend::persona_of(xen::DomId domid) {
    std::optional<std::string> untrusted_name;
    try {
        untrusted_name = runtime_.store().read(xenbus::domain_path(domid) + "/name");
    } catch (const xen::XenError&) {
        return std::nullopt; // the domain went away
    }
    if (!untrusted_name) return std::nullopt;
    std::vector<std::string_view> allowed(config_.personas.begin(), config_.personas.end());
    const auto chosen = xenbus::parse_name_in_set(*untrusted_name, allowed);
    if (!chosen) return std::nullopt;
    return std::string(chosen.value().name);
}

std::unique_ptr<xenbus::Device> SoundBackend::make_device(const xenbus::DevicePaths& paths) {
    const auto persona = persona_of(paths.frontend_domid());
    if (!persona) {
        log_->warn("vsnd {}: domain is no configured persona; refused", paths.frontend_domid());
        audit(focus::AuditEvent{"sound.refused-frontend", {{"domid", paths.frontend_domid()}}});
        return nullptr;
    }
    auto device = std::make_unique<VsndDevice>(*persona, config_.offer, runtime_.services().grants,
                                               paths.frontend_domid(), sink_, log_);
    device->set_audible(foreground_ == *persona);
    return std::make_unique<TrackedDevice>(*this, std::move(device));
}

focus::ToManager SoundBackend::apply_focus(const focus::Focus& order) {
    std::optional<std::string> next;
    if (order.persona && !order.prompt) {
        const auto known = std::find(config_.personas.begin(), config_.personas.end(), *order.persona);
        if (known == config_.personas.end()) {
            return focus::Refuse{order.epoch, "sound backend serves no persona '" + *order.persona + "'"};
        }
        next = *order.persona;
    } else if (order.persona && order.prompt &&
               std::find(config_.personas.begin(), config_.personas.end(), *order.persona) == config_.personas.end()) {
        return focus::Refuse{order.epoch, "sound backend serves no persona '" + *order.persona + "'"};
    }
    // Silence first, so that no sink ever carries the old and the new foreground at once.
    std::size_t silenced = 0;
    for (VsndDevice* device : devices_) {
        if (device->persona() != next) {
            device->set_audible(false);
            ++silenced;
        }
    }
    for (VsndDevice* device : devices_) {
        if (device->persona() == next) device->set_audible(true);
    }
    foreground_ = next;
    const std::string name = order.prompt ? "prompt" : next.value_or("nobody");
    log_->info("sound to {} (epoch {}); {} devices silent", name, order.epoch, silenced);
    nlohmann::json fields{{"to", name}, {"epoch", order.epoch}, {"silenced-devices", silenced}};
    if (next) fields["persona"] = *next;
    audit(focus::AuditEvent{"sound.focus", std::move(fields)});
    return focus::Ack{order.epoch};
}

std::vector<const VsndDevice*> SoundBackend::devices() const { return {devices_.begin(), devices_.end()}; }

void SoundBackend::audit(focus::AuditEvent event) const {
    if (audit_) audit_(event);
}

} // namespace twofold::sound
