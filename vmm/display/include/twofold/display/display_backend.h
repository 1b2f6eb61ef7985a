#pragma once
// The display backend process's wiring, apart from main() so it runs on the loopback in
// tests: one BackendRuntime, a BackendService for vfb whose devices feed one Compositor, the
// PersonaMap that says whose frontend is whose, and a presenter that composes at the refresh
// rate (frames only when something changed) and reports each completed switch. With a focus
// fd (the manager's socketpair) it says Hello, takes Focus orders, presents the persona at once
// and acks after that present; the link's EOF stops the backend.
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/steady_timer.hpp>
#include <spdlog/logger.h>

#include "twofold/display/compositor.h"
#include "twofold/display/persona_map.h"
#include "twofold/display/vfb_device.h"
#include "twofold/focus/focus_client.h"
#include "twofold/xen/platform.h"
#include "twofold/xenbus/backend_runtime.h"
#include "twofold/xenbus/backend_service.h"

namespace twofold::display {

struct DisplayBackendConfig {
    std::vector<PersonaConfig> personas;
    std::uint32_t strip_height = kDefaultStripHeight;
    VfbConfig vfb;
    std::chrono::microseconds refresh{16667}; // 60 Hz
    std::size_t budget_per_wake = xenbus::kDefaultBudgetPerWake;
    std::optional<int> focus_fd; // owned by the backend once given
};

inline constexpr std::string_view kBackendName = "display";

class DisplayBackend {
public:
    // Called after the frame that completes a switch was presented (the ack to the manager).
    using OnSwitchPresented = std::function<void(const PresentedSwitch&)>;

    // `target` outlives the backend. Throws for configuration errors and Xen failures at start.
    DisplayBackend(xen::Platform& platform, DisplayTarget& target, const DisplayBackendConfig& config,
                   std::shared_ptr<spdlog::logger> log, OnSwitchPresented on_switch = {});
    ~DisplayBackend();
    DisplayBackend(const DisplayBackend&) = delete;
    DisplayBackend& operator=(const DisplayBackend&) = delete;

    void start();
    [[nodiscard]] boost::asio::io_context& io() noexcept { return runtime_.io(); }
    void run() { runtime_.run(); }
    void stop() { runtime_.stop(); }

    // Posted onto the io_context by callers on other threads; here: the event-loop thread.
    void switch_to(PersonaId persona, std::uint64_t epoch = 0) { compositor_.switch_to(persona, epoch); }
    // Composes and presents now (not at the next refresh), reporting a completed switch.
    void present_now();
    // Why the backend stopped on its own (the focus link ended); empty otherwise.
    [[nodiscard]] const std::string& stop_reason() const noexcept { return stop_reason_; }
    [[nodiscard]] const PersonaMap& personas() const noexcept { return map_; }
    [[nodiscard]] const Compositor& compositor() const noexcept { return compositor_; }

private:
    void arm_presenter();
    // nullopt once the persona is on screen (the client acks), else why not (refused).
    std::optional<std::string> on_focus(const focus::Focus& order);
    void report_switch(const PresentedSwitch& done);
    void report_rejected(std::string_view who_key, const nlohmann::json& who, const std::string& reason);

    std::shared_ptr<spdlog::logger> log_;
    Compositor compositor_;
    PersonaMap map_;
    VfbConfig vfb_;
    std::chrono::microseconds refresh_;
    OnSwitchPresented on_switch_;
    xenbus::BackendRuntime runtime_;
    xenbus::BackendService service_;
    boost::asio::steady_timer presenter_;
    std::unique_ptr<focus::FocusClient> focus_; // after the runtime: closed before its io_context goes
    std::string stop_reason_;
};

} // namespace twofold::display
