#pragma once
// The input backend process's wiring, apart from main() so it runs on the loopback in tests:
// one BackendRuntime with a vkbd BackendService (one VkbdDevice per persona frontend), the
// dom0 input sources read on the same event loop, each through its own translator, into one
// InputRouter; apply_focus() is what a Focus order from the manager does.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <vector>

#include <spdlog/logger.h>

#include "twofold/focus/focus_protocol.h"
#include "twofold/input/input_source.h"
#include "twofold/input/personas.h"
#include "twofold/input/router.h"
#include "twofold/input/source_pump.h"
#include "twofold/xen/platform.h"
#include "twofold/xenbus/backend_runtime.h"
#include "twofold/xenbus/backend_service.h"

namespace twofold::input {

// KEY_POWER: the policy's default hardware switch key.
inline constexpr std::uint32_t kDefaultSwitchKey = 116;

struct InputBackendConfig {
    std::vector<PersonaConfig> personas;
    GuestResolution resolution;
    std::uint32_t switch_key = kDefaultSwitchKey;
    std::size_t budget_per_wake = xenbus::kDefaultBudgetPerWake;
};

class InputBackend {
public:
    using AuditSink = std::function<void(const focus::AuditEvent&)>;

    // Throws for configuration errors and Xen failures.
    // `prompt`: where keys typed into dom0's PIN prompt go (the focus link to the manager).
    InputBackend(xen::Platform& platform, const InputBackendConfig& config, std::shared_ptr<spdlog::logger> log,
                 AuditSink audit = {}, InputRouter::PromptSink prompt = {});
    ~InputBackend();
    InputBackend(const InputBackend&) = delete;
    InputBackend& operator=(const InputBackend&) = delete;

    void add_source(std::unique_ptr<InputSource> source);
    void start();
    [[nodiscard]] boost::asio::io_context& io() noexcept { return runtime_.io(); }
    void run() { runtime_.run(); }
    void stop() { runtime_.stop(); }

    // Releases what the old foreground holds, then routes to the named persona (or, for an
    // order with a prompt, to dom0's PIN prompt); Ack, or Refuse for a persona this backend
    // does not serve.
    focus::ToManager apply_focus(const focus::Focus& order);

    [[nodiscard]] const Personas& personas() const noexcept { return personas_; }
    [[nodiscard]] const InputRouter& router() const noexcept { return router_; }
    [[nodiscard]] std::size_t source_count() const noexcept { return pumps_.size(); }
    [[nodiscard]] const xenbus::BackendService& service() const noexcept { return service_; }

private:
    void audit(focus::AuditEvent event) const;

    std::shared_ptr<spdlog::logger> log_;
    AuditSink audit_;
    Personas personas_;
    GuestResolution resolution_;
    InputRouter router_;
    xenbus::BackendRuntime runtime_;
    xenbus::BackendService service_;
    SourcePumps pumps_;
};

} // namespace twofold::input
