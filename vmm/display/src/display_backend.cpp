#include "twofold/display/display_backend.h"

#include <utility>

namespace twofold::display {

DisplayBackend::DisplayBackend(xen::Platform& platform, DisplayTarget& target, const DisplayBackendConfig& config,
                               std::shared_ptr<spdlog::logger> log, OnSwitchPresented on_switch)
    : log_(std::move(log)), compositor_(target, config.strip_height), map_(compositor_, config.personas),
      vfb_(config.vfb), refresh_(config.refresh), on_switch_(std::move(on_switch)),
      runtime_(platform, log_, config.budget_per_wake),
      service_(runtime_.services(), runtime_.own_domid(), xenbus::DeviceType::Vfb,
               [this](const xenbus::DevicePaths& paths) -> std::unique_ptr<xenbus::Device> {
                   const auto persona = map_.for_domain(runtime_.store(), paths.frontend_domid());
                   if (!persona) {
                       log_->warn("vfb {}: domain is no configured persona; refused", paths.frontend_domid());
                       return nullptr;
                   }
                   return std::make_unique<VfbDevice>(compositor_, *persona, runtime_.services().foreign,
                                                      paths.frontend_domid(), vfb_);
               }),
      presenter_(runtime_.io()) {}

// The service (and its devices, which hold sources in the compositor) goes before the
// compositor: members are destroyed in reverse order, service_ after presenter_.
DisplayBackend::~DisplayBackend() = default;

void DisplayBackend::start() {
    service_.start();
    arm_presenter();
}

void DisplayBackend::arm_presenter() {
    presenter_.expires_after(refresh_);
    presenter_.async_wait([this](const boost::system::error_code& error) {
        if (error) return;
        compositor_.present();
        if (const auto done = compositor_.take_presented_switch()) {
            log_->info("presenting persona {} (epoch {})", done->persona, done->epoch);
            if (on_switch_) on_switch_(*done);
        }
        arm_presenter();
    });
}

} // namespace twofold::display
