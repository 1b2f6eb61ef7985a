#pragma once
// The vkbd backend for one frontend (Linux xen-kbdfront), as a xenbus Device and as the
// router's GuestInput for its persona. We advertise an absolute pointer and multi-touch at the
// configured guest resolution; the frontend's request-abs-pointer / request-multi-touch say
// which of them it wants (parsed with the xenbus value parsers). The shared page is mapped by
// grant (page-gref) where the process has a grant device, or by its frame number (page-ref)
// where the process's privcmd handle reaches only this frontend's domain (PageMapping).
//
// The in ring carries our events (never blocking: a full ring drops); the out ring has no
// event defined by kbdif.h, so whatever the guest writes there is consumed within the
// per-wake budget, counted and ignored, and an impossible out-ring index closes this frontend.
#include <cstddef>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include <spdlog/logger.h>

#include "twofold/input/events.h"
#include "twofold/input/router.h"
#include "twofold/xenbus/device.h"

namespace twofold::input {

// The guest-written out-ring event, as a value: kbdif.h defines none, so every one is Unknown.
struct OutEvent {
    std::uint8_t untrusted_type = 0;
};
[[nodiscard]] OutEvent parse_out_event(std::span<const std::byte, 40> slot) noexcept;

// What the frontend asked for (request-* nodes; absent means no).
struct FrontendRequests {
    bool abs_pointer = false;
    bool multi_touch = false;
};
xenbus::Result<FrontendRequests> read_frontend_requests(const xenbus::NodeReader& frontend);

struct VkbdCounters {
    std::size_t out_events_ignored = 0;
};

class VkbdDevice final : public xenbus::Device, public GuestInput {
public:
    // How the shared page is mapped: by grant (page-gref) in a backend that keeps a grant
    // device, by frame number (page-ref, xen-kbdfront publishes both) through a privcmd handle
    // restricted to the frontend's domain in a per-persona writer, which has no grant device.
    enum class PageMapping : unsigned char { Grant, RestrictedForeign };

    VkbdDevice(GuestAttachments& router, PersonaId persona, GuestResolution resolution, std::shared_ptr<spdlog::logger> log,
               PageMapping mapping = PageMapping::Grant);
    ~VkbdDevice() override;

    [[nodiscard]] xenbus::RingSpec ring_spec() const override;
    [[nodiscard]] std::vector<std::pair<std::string, std::string>> backend_nodes() const override;
    xenbus::Result<void> on_bind(const xenbus::BindContext& context) override;
    xenbus::ServiceOutcome on_event(std::size_t budget) override;
    void on_closing() noexcept override;

    PushResult push(const GuestEvent& event) override;
    void flush() override;

    [[nodiscard]] const FrontendRequests& requests() const noexcept { return requests_; }
    [[nodiscard]] const VkbdCounters& counters() const noexcept { return counters_; }
    [[nodiscard]] bool bound() const noexcept { return rings_ != nullptr; }

private:
    struct Rings;

    GuestAttachments& router_;
    PersonaId persona_;
    PageMapping mapping_;
    GuestResolution resolution_;
    std::shared_ptr<spdlog::logger> log_;
    FrontendRequests requests_;
    std::unique_ptr<Rings> rings_;
    bool unflushed_ = false;
    VkbdCounters counters_;
    RateLimiter out_log_{std::chrono::seconds(1)};
};

} // namespace twofold::input
