#include "twofold/display/vfb_device.h"

#include <algorithm>
#include <array>
#include <optional>
#include <string>
#include <utility>

#include <xen/io/fbif.h>

#include "twofold/rings/event_ring.h"
#include "twofold/rings/shared_memory.h"
#include "twofold/xenbus/xenstore_values.h"

namespace twofold::display {

struct VfbDevice::Rings {
    rings::EventConsumer<xenfb_out_event> out;
};

VfbDevice::VfbDevice(Compositor& compositor, PersonaId persona, xen::ForeignMemory& foreign, xen::DomId frontend_domid,
                     VfbConfig config, OnRejected on_rejected)
    : compositor_(compositor), persona_(persona), foreign_(foreign), frontend_domid_(frontend_domid),
      limits_(compositor.content_limits(std::min(config.max_mem_length, kMaxFramebufferBytes))),
      on_rejected_(std::move(on_rejected)) {}

VfbDevice::~VfbDevice() { on_closing(); }

xenbus::RingSpec VfbDevice::ring_spec() const {
    xenbus::RingSpec spec;
    spec.ring_ref_node = "page-ref"; // a frame number, not a grant: fbif predates grant use
    spec.mapping = xenbus::RingSpec::Mapping::Foreign;
    spec.access = xen::Access::ReadWrite; // we advance out_cons
    return spec;
}

std::vector<std::pair<std::string, std::string>> VfbDevice::backend_nodes() const {
    // Linux xen-fbfront takes its mode from these (the content area under the strip, not the
    // panel) and sends update events only when asked. No feature-resize: the mode is ours.
    return {
        {"request-update", "1"},
        {"width", std::to_string(limits_.max_width)},
        {"height", std::to_string(limits_.max_height)},
        {"videoram", std::to_string(limits_.max_mem_length >> 20)},
    };
}

xenbus::Result<void> VfbDevice::on_bind(const xenbus::BindContext& context) {
    auto bound = bind(context);
    if (!bound && on_rejected_) on_rejected_(persona_, bound.error().message);
    return bound;
}

xenbus::Result<void> VfbDevice::bind(const xenbus::BindContext& context) {
    if (context.ring.size() < xen::kPageSize) return xenbus::Error{"shared page mapping too small"};
    if (auto protocol = context.frontend.read_or("protocol", check_protocol, xenbus::Protocol::Arm); !protocol) {
        return protocol.error();
    }
    auto feature_update = context.frontend.read_or("feature-update", xenbus::parse_bool, false);
    if (!feature_update) return feature_update.error();
    update_events_ = feature_update.value();

    // One copy of the header; nothing below looks at the shared page's geometry again.
    std::array<std::byte, kHeaderBytes> header{};
    rings::copy_from_shared(header, context.ring.first(kHeaderBytes));
    auto geometry = parse_framebuffer_header(header, limits_);
    if (!geometry) return xenbus::Error{"framebuffer: " + geometry.error().message};
    auto framebuffer = map_guest_framebuffer(foreign_, frontend_domid_, geometry.value());
    if (!framebuffer) return framebuffer.error();

    rings_ = std::make_unique<Rings>(Rings{rings::EventConsumer<xenfb_out_event>(context.ring, rings::kFbOutRing)});
    framebuffer_.emplace(std::move(framebuffer).value());
    compositor_.set_source(persona_, *framebuffer_);
    return {};
}

xenbus::ServiceOutcome VfbDevice::on_event(std::size_t budget) {
    xenbus::ServiceOutcome outcome;
    if (!rings_ || !framebuffer_) return outcome;
    const FramebufferGeometry& geometry = framebuffer_->geometry();
    std::optional<std::uint8_t> bad_type;
    const auto result = rings_->out.process(budget, [&](const xenfb_out_event& event) noexcept {
        if (bad_type) return; // already broken: drain the budget without acting
        if (event.type == XENFB_TYPE_RESIZE) {
            const auto& r = event.resize;
            const bool same = r.width >= 0 && static_cast<std::uint32_t>(r.width) == geometry.width &&
                              r.height >= 0 && static_cast<std::uint32_t>(r.height) == geometry.height &&
                              r.stride >= 0 && static_cast<std::uint32_t>(r.stride) == geometry.line_length &&
                              r.depth == 32 && r.offset == 0;
            ++(same ? counters_.resizes_same_mode : counters_.resizes_refused);
            return;
        }
        if (event.type != XENFB_TYPE_UPDATE) {
            // fbif.h: any other out event is a protocol error.
            bad_type = event.type;
            return;
        }
        const UntrustedUpdate update{event.update.x, event.update.y, event.update.width, event.update.height};
        if (update.width <= 0 || update.height <= 0) {
            ++counters_.empty_updates;
            return;
        }
        // With a positive area clip_update cannot fail (and so allocates nothing).
        const auto rect = clip_update(update, geometry);
        if (!rect || rect.value().empty()) {
            ++counters_.empty_updates;
            return;
        }
        ++counters_.updates;
        compositor_.mark_dirty(persona_, rect.value());
    });
    outcome.processed = result.processed;
    outcome.more_pending = result.more_pending;
    if (result.fault) {
        outcome.error = "out ring: " + std::string(rings::describe(*result.fault));
    } else if (bad_type) {
        outcome.error = "out ring: event type " + std::to_string(*bad_type) + " not offered";
    } else if (!update_events_) {
        // A frontend without update events changes pixels silently: every wake redraws it.
        compositor_.mark_dirty(persona_, Rect{0, 0, geometry.width, geometry.height});
    }
    if (!outcome.error.empty() && on_rejected_) on_rejected_(persona_, outcome.error);
    return outcome;
}

void VfbDevice::on_closing() noexcept {
    // The compositor must stop reading the framebuffer before it is unmapped.
    compositor_.clear_source(persona_);
    rings_.reset();
    framebuffer_.reset();
}

} // namespace twofold::display
