#include "twofold/input/vkbd_writer.h"

#include "twofold/input/vkbd_device.h"

namespace twofold::input {

OwnerLink::OwnerLink(boost::asio::io_context& io, xen::UniqueFd socket, std::string persona_name,
                     std::shared_ptr<spdlog::logger> log)
    : persona_name_(std::move(persona_name)), log_(std::move(log)),
      link_(
          io, std::move(socket), [this](std::span<const std::byte> message) { on_message(message); },
          [this](const std::string& why) {
              log_->error("{}: link to the input owner broken ({}); no more input for {}", persona_name_, why, persona_name_);
          }) {}

OwnerLink::~OwnerLink() = default;

void OwnerLink::start() {
    send_state();
    link_.start();
}

void OwnerLink::attach(PersonaId, GuestInput& guest) {
    guest_ = &guest;
    queue_.clear();
    send_state();
}

void OwnerLink::detach(PersonaId, const GuestInput& guest) noexcept {
    if (guest_ != &guest) return;
    guest_ = nullptr;
    queue_.clear();
    try {
        send_state();
    } catch (...) {
        // Only allocation can throw here; the owner then learns it at its next Sync.
    }
}

void OwnerLink::guest_ready(PersonaId, const GuestInput& guest) {
    if (guest_ != &guest) return;
    const bool had_queue = !queue_.empty();
    if (push_queued() && (had_queue || owe_ready_)) send_ready();
}

void OwnerLink::on_message(std::span<const std::byte> untrusted) {
    auto parsed = peer::parse_to_writer(untrusted);
    if (const auto* error = std::get_if<peer::WireError>(&parsed)) {
        ++counters_.bad_messages;
        if (bad_log_.allow(std::chrono::steady_clock::now())) {
            log_->warn("{}: refused message from the input owner ({}; {} so far)", persona_name_, error->message,
                       counters_.bad_messages);
        }
        return;
    }
    const auto& message = std::get<peer::ToWriter>(parsed);
    if (std::holds_alternative<peer::Sync>(message)) {
        send_state();
        return;
    }
    for (const auto& event : std::get<peer::Events>(message).events) deliver(event);
    if (guest_) guest_->flush();
}

void OwnerLink::deliver(const GuestEvent& event) {
    if (!guest_) {
        ++counters_.dropped_no_guest;
        return;
    }
    if (queue_.empty()) {
        switch (guest_->push(event)) {
        case PushResult::Delivered: ++counters_.delivered; return;
        case PushResult::NotWanted: ++counters_.dropped_not_wanted; return;
        case PushResult::Broken: ++counters_.dropped_no_guest; return;
        case PushResult::Full: break;
        }
    }
    if (queue_.size() >= kMaxQueuedForGuest) {
        ++counters_.dropped_queue_full;
        owe_ready_ = true;
        if (drop_log_.allow(std::chrono::steady_clock::now())) {
            log_->warn("{}: the guest does not consume its input ring; {} events dropped so far", persona_name_,
                       counters_.dropped_queue_full);
        }
        return;
    }
    queue_.push_back(event);
}

bool OwnerLink::push_queued() {
    bool pushed = false;
    while (!queue_.empty() && guest_) {
        const auto result = guest_->push(queue_.front());
        if (result == PushResult::Full) break;
        if (result == PushResult::Delivered) ++counters_.delivered;
        if (result == PushResult::NotWanted) ++counters_.dropped_not_wanted;
        queue_.pop_front();
        pushed = true;
    }
    if (pushed && guest_) guest_->flush();
    return queue_.empty();
}

void OwnerLink::send_state() {
    const auto message = peer::encode(peer::ToOwner{peer::State{guest_ != nullptr}});
    if (!link_.send(message)) log_->warn("{}: the input owner does not read its link", persona_name_);
}

void OwnerLink::send_ready() {
    const auto message = peer::encode(peer::ToOwner{peer::Ready{}});
    owe_ready_ = !link_.send(message);
}

VkbdWriter::VkbdWriter(xen::Platform& platform, const VkbdWriterConfig& config, xen::UniqueFd owner,
                       std::shared_ptr<spdlog::logger> log, AuditSink audit)
    : log_(std::move(log)), audit_(std::move(audit)), config_(config), personas_({config.persona}),
      runtime_(platform, log_, config.budget_per_wake), owner_(runtime_.io(), std::move(owner), config.persona.name, log_),
      service_(runtime_.services(), runtime_.own_domid(), xenbus::DeviceType::Vkbd,
               [this](const xenbus::DevicePaths& paths) -> std::unique_ptr<xenbus::Device> {
                   // Only the one domain this process serves, and only while it is the persona
                   // (its dom0-owned name): anything else is no frontend of ours.
                   const auto domid = paths.frontend_domid();
                   const bool ours = domid == config_.domid && personas_.for_domain(runtime_.store(), domid).has_value();
                   if (!ours) {
                       log_->warn("vkbd {}: not {}'s domain {}; refused", domid, config_.persona.name, config_.domid);
                       if (audit_) {
                           audit_(focus::AuditEvent{"input.refused-frontend",
                                                    {{"domid", domid}, {"persona", config_.persona.name}}});
                       }
                       return nullptr;
                   }
                   return std::make_unique<VkbdDevice>(owner_, 0, config_.resolution, log_,
                                                       VkbdDevice::PageMapping::RestrictedForeign);
               }) {
    if (config.domid == xen::kDom0 || config.domid >= xen::kFirstReservedDomId) {
        throw std::invalid_argument("a vkbd writer serves one guest domain, not dom0 or a reserved id");
    }
    if (!valid(config.resolution)) {
        throw std::invalid_argument("guest resolution or contact count out of range");
    }
}

// The service's devices report to owner_ while they close: they go first.
VkbdWriter::~VkbdWriter() = default;

void VkbdWriter::start() {
    owner_.start();
    service_.start();
}

} // namespace twofold::input
