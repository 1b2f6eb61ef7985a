#pragma once
// The vfb backend for one frontend (Linux xen-fbfront), as a xenbus Device. On bind it copies
// the shared page header once, parses it (geometry.h), maps the framebuffer read-only from the
// toolstack-assigned domid and hands it to the compositor as this persona's source; each wake
// consumes at most `budget` out-ring events (update rectangles, clipped and validated). On
// closing it withdraws the source before the FrontendConnection unmaps anything.
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "twofold/display/compositor.h"
#include "twofold/display/geometry.h"
#include "twofold/display/guest_framebuffer.h"
#include "twofold/xen/memory.h"
#include "twofold/xenbus/device.h"

namespace twofold::display {

struct VfbConfig {
    // Per-guest framebuffer budget (the toolstack's videoram); never above kMaxFramebufferBytes.
    std::size_t max_mem_length = std::size_t{16} << 20;
};

struct VfbCounters {
    std::size_t updates = 0;
    std::size_t empty_updates = 0; // clipped to nothing or no area: ignored
    // Linux xen-fbfront queues a resize event on every fb set_par (fbcon start, a mode set by
    // an application) whether or not feature-resize was offered. The mode is the backend's:
    // the event is checked and ignored, never acted on.
    std::size_t resizes_same_mode = 0;
    std::size_t resizes_refused = 0; // asked for another mode: ignored, the guest keeps ours
};

class VfbDevice final : public xenbus::Device {
public:
    // Told why a guest's framebuffer or ring was refused (the manager audits it).
    using OnRejected = std::function<void(PersonaId, const std::string& reason)>;

    VfbDevice(Compositor& compositor, PersonaId persona, xen::ForeignMemory& foreign, xen::DomId frontend_domid,
              VfbConfig config = {}, OnRejected on_rejected = {});
    ~VfbDevice() override;

    [[nodiscard]] xenbus::RingSpec ring_spec() const override;
    [[nodiscard]] std::vector<std::pair<std::string, std::string>> backend_nodes() const override;
    xenbus::Result<void> on_bind(const xenbus::BindContext& context) override;
    xenbus::ServiceOutcome on_event(std::size_t budget) override;
    void on_closing() noexcept override;

    [[nodiscard]] const VfbCounters& counters() const noexcept { return counters_; }
    [[nodiscard]] bool bound() const noexcept { return framebuffer_.has_value(); }

private:
    struct Rings;
    xenbus::Result<void> bind(const xenbus::BindContext& context);

    Compositor& compositor_;
    PersonaId persona_;
    xen::ForeignMemory& foreign_;
    xen::DomId frontend_domid_;
    DisplayLimits limits_;
    std::optional<GuestFramebuffer> framebuffer_;
    std::unique_ptr<Rings> rings_;
    bool update_events_ = false;
    VfbCounters counters_;
    OnRejected on_rejected_;
};

} // namespace twofold::display
