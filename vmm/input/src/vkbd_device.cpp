#include "twofold/input/vkbd_device.h"

#include <xen/io/kbdif.h>

#include <type_traits>

#include "twofold/rings/event_ring.h"
#include "twofold/xenbus/xenstore_values.h"

namespace twofold::input {

static_assert(sizeof(xenkbd_in_event) == XENKBD_IN_EVENT_SIZE);
static_assert(sizeof(xenkbd_out_event) == XENKBD_OUT_EVENT_SIZE);

struct VkbdDevice::Rings {
    rings::EventProducer<xenkbd_in_event> in;
    rings::EventConsumer<xenkbd_out_event> out;
    const xen::BoundPort* port;
    bool broken = false; // the guest's in_cons was impossible: nothing more is pushed
};

OutEvent parse_out_event(std::span<const std::byte, 40> slot) noexcept {
    return OutEvent{static_cast<std::uint8_t>(slot[0])};
}

xenbus::Result<FrontendRequests> read_frontend_requests(const xenbus::NodeReader& frontend) {
    FrontendRequests requests;
    auto abs = frontend.read_or(XENKBD_FIELD_REQ_ABS_POINTER, xenbus::parse_bool, false);
    if (!abs) return abs.error();
    auto touch = frontend.read_or(XENKBD_FIELD_REQ_MTOUCH, xenbus::parse_bool, false);
    if (!touch) return touch.error();
    requests.abs_pointer = abs.value();
    requests.multi_touch = touch.value();
    return requests;
}

VkbdDevice::VkbdDevice(GuestAttachments& router, PersonaId persona, GuestResolution resolution,
                       std::shared_ptr<spdlog::logger> log, PageMapping mapping)
    : router_(router), persona_(persona), mapping_(mapping), resolution_(resolution), log_(std::move(log)) {}

VkbdDevice::~VkbdDevice() { on_closing(); }

xenbus::RingSpec VkbdDevice::ring_spec() const {
    xenbus::RingSpec spec;
    spec.port_node = XENKBD_FIELD_EVT_CHANNEL;
    if (mapping_ == PageMapping::Grant) {
        spec.ring_ref_node = XENKBD_FIELD_RING_GREF;
        spec.mapping = xenbus::RingSpec::Mapping::Grant;
    } else {
        spec.ring_ref_node = XENKBD_FIELD_RING_REF;
        spec.mapping = xenbus::RingSpec::Mapping::Foreign;
    }
    spec.access = xen::Access::ReadWrite; // we write in-ring events and in_prod, out_cons
    return spec;
}

std::vector<std::pair<std::string, std::string>> VkbdDevice::backend_nodes() const {
    // xen-kbdfront reads these at probe: it sizes its absolute axes from width/height and its
    // multi-touch device from the multi-touch-* nodes.
    std::vector<std::pair<std::string, std::string>> nodes{
        {XENKBD_FIELD_FEAT_ABS_POINTER, "1"},
        {XENKBD_FIELD_WIDTH, std::to_string(resolution_.width)},
        {XENKBD_FIELD_HEIGHT, std::to_string(resolution_.height)},
    };
    if (resolution_.contacts > 0) {
        nodes.emplace_back(XENKBD_FIELD_FEAT_MTOUCH, "1");
        nodes.emplace_back(XENKBD_FIELD_MT_WIDTH, std::to_string(resolution_.width));
        nodes.emplace_back(XENKBD_FIELD_MT_HEIGHT, std::to_string(resolution_.height));
        nodes.emplace_back(XENKBD_FIELD_MT_NUM_CONTACTS, std::to_string(resolution_.contacts));
    }
    return nodes;
}

xenbus::Result<void> VkbdDevice::on_bind(const xenbus::BindContext& context) {
    if (context.ring.size() < xen::kPageSize) return xenbus::Error{"shared page mapping too small"};
    auto requests = read_frontend_requests(context.frontend);
    if (!requests) return requests.error();
    requests_ = requests.value();
    if (requests_.multi_touch && resolution_.contacts == 0) {
        return xenbus::Error{"frontend requested multi-touch, which was not offered"};
    }
    rings_ = std::make_unique<Rings>(Rings{rings::EventProducer<xenkbd_in_event>(context.ring, rings::kKbdInRing),
                                           rings::EventConsumer<xenkbd_out_event>(context.ring, rings::kKbdOutRing),
                                           &context.port});
    router_.attach(persona_, *this);
    log_->info("vkbd persona {}: connected (abs pointer {}, multi-touch {})", persona_, requests_.abs_pointer,
               requests_.multi_touch);
    return {};
}

xenbus::ServiceOutcome VkbdDevice::on_event(std::size_t budget) {
    xenbus::ServiceOutcome outcome;
    if (!rings_) return outcome;
    std::optional<std::uint8_t> first_type;
    const auto result = rings_->out.process(budget, [&](const xenkbd_out_event& event) noexcept {
        const OutEvent parsed = parse_out_event(std::as_bytes(std::span<const xenkbd_out_event, 1>(&event, 1)));
        if (!first_type) first_type = parsed.untrusted_type;
        ++counters_.out_events_ignored;
    });
    outcome.processed = result.processed;
    outcome.more_pending = result.more_pending;
    if (first_type && out_log_.allow(std::chrono::steady_clock::now())) {
        log_->warn("vkbd persona {}: ignoring out-ring events kbdif.h does not define (type {}, {} so far)", persona_,
                   *first_type, counters_.out_events_ignored);
    }
    if (result.fault) {
        outcome.error = "out ring: " + std::string(rings::describe(*result.fault));
    } else if (rings_->broken) {
        outcome.error = "in ring: consumer index beyond what we produced";
    } else {
        // The guest consumed in-ring events (that is when it notifies us): owed releases go now.
        router_.guest_ready(persona_, *this);
    }
    return outcome;
}

void VkbdDevice::on_closing() noexcept {
    router_.detach(persona_, *this);
    rings_.reset();
    unflushed_ = false;
}

namespace {

void encode(const KeyEvent& event, xenkbd_in_event& slot) noexcept {
    slot.key.type = XENKBD_TYPE_KEY;
    slot.key.pressed = event.pressed ? 1 : 0;
    slot.key.keycode = event.code;
}

void encode(const PositionEvent& event, xenkbd_in_event& slot) noexcept {
    slot.pos.type = XENKBD_TYPE_POS;
    slot.pos.abs_x = event.x;
    slot.pos.abs_y = event.y;
    slot.pos.rel_z = event.wheel;
}

void encode(const TouchEvent& event, xenkbd_in_event& slot) noexcept {
    slot.mtouch.type = XENKBD_TYPE_MTOUCH;
    slot.mtouch.contact_id = event.contact;
    switch (event.phase) {
    case TouchPhase::Down:
        slot.mtouch.event_type = XENKBD_MT_EV_DOWN;
        slot.mtouch.u.pos.abs_x = event.x;
        slot.mtouch.u.pos.abs_y = event.y;
        break;
    case TouchPhase::Motion:
        slot.mtouch.event_type = XENKBD_MT_EV_MOTION;
        slot.mtouch.u.pos.abs_x = event.x;
        slot.mtouch.u.pos.abs_y = event.y;
        break;
    case TouchPhase::Up:
        slot.mtouch.event_type = XENKBD_MT_EV_UP;
        break;
    case TouchPhase::Frame:
        slot.mtouch.event_type = XENKBD_MT_EV_SYN;
        break;
    }
}

} // namespace

PushResult VkbdDevice::push(const GuestEvent& event) {
    if (!rings_ || rings_->broken) return PushResult::Broken;
    if (std::holds_alternative<PositionEvent>(event) && !requests_.abs_pointer) return PushResult::NotWanted;
    if (std::holds_alternative<TouchEvent>(event) && !requests_.multi_touch) return PushResult::NotWanted;
    const auto status = rings_->in.push([&event](xenkbd_in_event& slot) noexcept {
        std::visit([&slot](const auto& e) noexcept { encode(e, slot); }, event);
    });
    switch (status) {
    case rings::PushStatus::pushed:
        unflushed_ = true;
        return PushResult::Delivered;
    case rings::PushStatus::full:
        return PushResult::Full;
    case rings::PushStatus::fault:
        // Closed at the guest's next notification (on_event); until then it gets nothing.
        rings_->broken = true;
        log_->error("vkbd persona {}: in-ring consumer index is impossible; input to it stops", persona_);
        return PushResult::Broken;
    }
    return PushResult::Broken;
}

void VkbdDevice::flush() {
    if (!rings_ || !unflushed_) return;
    unflushed_ = false;
    rings_->port->notify();
}

} // namespace twofold::input
