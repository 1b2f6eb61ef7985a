#pragma once
// The sound backend process's wiring, apart from main() so it runs on the loopback in tests:
// one BackendRuntime with a vsnd BackendService (one VsndDevice per persona frontend, the same
// offer for each), one Sink, and the focus hook: apply_focus() makes the named persona's
// streams audible and every other stream silent, in that order reversed (the old foreground
// is closed at the sink before the new one may open it), then acks. A frontend of a domain
// that is no configured persona is refused (audited).
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <spdlog/logger.h>

#include "twofold/focus/focus_protocol.h"
#include "twofold/sound/offer.h"
#include "twofold/sound/sink.h"
#include "twofold/sound/vsnd_device.h"
#include "twofold/xen/platform.h"
#include "twofold/xenbus/backend_runtime.h"
#include "twofold/xenbus/backend_service.h"

namespace twofold::sound {

// The focus holder name this backend will announce once the manager knows it (docs/sound.md,
// "What the manager must add"): focus::Holder has no entry for it yet.
inline constexpr std::string_view kHolderName = "sound";

struct SoundBackendConfig {
    std::vector<std::string> personas; // domain names, as the toolstack names the personas
    CardOffer offer = default_offer();
    std::size_t budget_per_wake = xenbus::kDefaultBudgetPerWake;
};

class SoundBackend {
public:
    using AuditSink = std::function<void(const focus::AuditEvent&)>;

    // Throws std::invalid_argument for a bad offer or persona list, and for Xen failures.
    SoundBackend(xen::Platform& platform, SoundBackendConfig config, Sink& sink, std::shared_ptr<spdlog::logger> log,
                 AuditSink audit = {});
    ~SoundBackend();
    SoundBackend(const SoundBackend&) = delete;
    SoundBackend& operator=(const SoundBackend&) = delete;

    void start() { service_.start(); }
    [[nodiscard]] boost::asio::io_context& io() noexcept { return runtime_.io(); }
    void run() { runtime_.run(); }
    void stop() { runtime_.stop(); }

    // A persona: its streams become audible, every other one silent; nobody (or dom0's PIN
    // prompt): all silent. Refuses a persona it does not serve.
    focus::ToManager apply_focus(const focus::Focus& order);

    [[nodiscard]] const std::optional<std::string>& foreground() const noexcept { return foreground_; }
    [[nodiscard]] const CardOffer& offer() const noexcept { return config_.offer; }
    [[nodiscard]] const xenbus::BackendService& service() const noexcept { return service_; }
    // The devices currently served (for tests and status).
    [[nodiscard]] std::vector<const VsndDevice*> devices() const;

private:
    class TrackedDevice;
    std::unique_ptr<xenbus::Device> make_device(const xenbus::DevicePaths& paths);
    [[nodiscard]] std::optional<std::string> persona_of(xen::DomId domid);
    void audit(focus::AuditEvent event) const;

    SoundBackendConfig config_;
    Sink& sink_;
    std::shared_ptr<spdlog::logger> log_;
    AuditSink audit_;
    std::optional<std::string> foreground_;
    std::set<VsndDevice*> devices_;
    xenbus::BackendRuntime runtime_;
    xenbus::BackendService service_;
};

} // namespace twofold::sound
