#include "twofold/input/input_backend.h"

#include "twofold/input/vkbd_device.h"

namespace twofold::input {

InputBackend::InputBackend(xen::Platform& platform, const InputBackendConfig& config,
                           std::shared_ptr<spdlog::logger> log, AuditSink audit, InputRouter::PromptSink prompt)
    : log_(std::move(log)), audit_(std::move(audit)), personas_(config.personas), resolution_(config.resolution),
      router_(personas_.size(), config.switch_key, log_, std::move(prompt)), runtime_(platform, log_, config.budget_per_wake),
      service_(runtime_.services(), runtime_.own_domid(), xenbus::DeviceType::Vkbd,
               [this](const xenbus::DevicePaths& paths) -> std::unique_ptr<xenbus::Device> {
                   const auto persona = personas_.for_domain(runtime_.store(), paths.frontend_domid());
                   if (!persona) {
                       log_->warn("vkbd {}: domain is no configured persona; refused", paths.frontend_domid());
                       this->audit(focus::AuditEvent{"input.refused-frontend", {{"domid", paths.frontend_domid()}}});
                       return nullptr;
                   }
                   return std::make_unique<VkbdDevice>(router_, *persona, resolution_, log_);
               }) {
    if (!valid(resolution_)) {
        throw std::invalid_argument("guest resolution or contact count out of range");
    }
}

// Pumps (which route into devices) go first, then the service and its devices, then the
// router they are attached to: members are destroyed in reverse order.
InputBackend::~InputBackend() { pumps_.clear(); }

void InputBackend::add_source(std::unique_ptr<InputSource> source) {
    pumps_.add(io(), std::move(source), resolution_, router_, log_);
}

void InputBackend::start() { service_.start(); }

focus::ToManager InputBackend::apply_focus(const focus::Focus& order) {
    return apply_focus_to_router(router_, personas_, order, *log_, [this](focus::AuditEvent event) { audit(std::move(event)); });
}

void InputBackend::audit(focus::AuditEvent event) const {
    if (audit_) audit_(event);
}

} // namespace twofold::input
