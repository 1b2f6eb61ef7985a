#include "twofold/display/display_backend.h"

#include <utility>

namespace twofold::display {

namespace {

// Audit field values travel on the focus link, which bounds strings.
std::string bounded(std::string text) {
    if (text.size() > focus::kMaxReasonBytes) text.resize(focus::kMaxReasonBytes);
    return text;
}

} // namespace

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
                       report_rejected("domid", paths.frontend_domid(), "not a configured persona");
                       return nullptr;
                   }
                   return std::make_unique<VfbDevice>(
                       compositor_, *persona, runtime_.services().foreign, paths.frontend_domid(), vfb_,
                       [this](PersonaId id, const std::string& reason) {
                           log_->warn("vfb {}: refused: {}", map_.name_of(id), reason);
                           report_rejected("persona", std::string(map_.name_of(id)), reason);
                       });
               }),
      presenter_(runtime_.io()) {
    if (config.focus_fd) {
        focus_ = std::make_unique<focus::FocusClient>(
            runtime_.io(), xen::UniqueFd(*config.focus_fd), focus::Hello{std::string(kBackendName), {focus::Holder::Display}},
            [this](const focus::Focus& order) { return on_focus(order); },
            [this](const std::string& why) {
                log_->info("focus link closed ({}); stopping", why);
                stop_reason_ = why;
                runtime_.stop();
            },
            log_);
        focus_->on_prompt_update([this](const focus::PromptUpdate& update) {
            // The dots of the prompt on screen (a stale epoch's redraw changes nothing).
            if (compositor_.update_prompt(update.epoch, PromptScreen{update.view.dots, update.view.message})) present_now();
        });
        focus_->on_notice([this](const focus::Notice& notice) {
            const auto persona = map_.by_name(notice.persona);
            if (!persona) {
                log_->warn("notice for {}: not configured here; ignored", notice.persona);
                return;
            }
            if (compositor_.set_notice(*persona, notice.mark)) {
                log_->info("notice mark for {} {}", notice.persona, notice.mark ? "on" : "off");
                present_now();
            }
        });
    }
}

// The service (and its devices, which hold sources in the compositor) goes before the
// compositor: members are destroyed in reverse order, service_ after presenter_.
DisplayBackend::~DisplayBackend() = default;

void DisplayBackend::start() {
    service_.start();
    if (focus_) focus_->start();
    arm_presenter();
}

void DisplayBackend::arm_presenter() {
    presenter_.expires_after(refresh_);
    presenter_.async_wait([this](const boost::system::error_code& error) {
        if (error) return;
        present_now();
        arm_presenter();
    });
}

void DisplayBackend::present_now() {
    compositor_.present();
    if (const auto done = compositor_.take_presented_switch()) report_switch(*done);
}

std::optional<std::string> DisplayBackend::on_focus(const focus::Focus& order) {
    // The screen always shows one persona's indicator; "nobody" is only ever an input order.
    if (!order.persona) {
        log_->warn("focus epoch {}: the display cannot present nobody; refused", order.epoch);
        return std::string("the display cannot present nobody");
    }
    const auto persona = map_.by_name(*order.persona);
    if (!persona) {
        log_->warn("focus epoch {}: persona {} is not configured here; refused", order.epoch, *order.persona);
        return "persona " + *order.persona + " is not configured";
    }
    // The frame with the new indicator and content goes out now, not at the next refresh:
    // the client acks once this returns, after that present.
    if (order.prompt) {
        log_->info("focus epoch {}: dom0's PIN prompt for {}", order.epoch, *order.persona);
        compositor_.show_prompt(*persona, order.epoch, PromptScreen{order.prompt->dots, order.prompt->message});
    } else {
        compositor_.switch_to(*persona, order.epoch);
    }
    present_now();
    return std::nullopt;
}

void DisplayBackend::report_switch(const PresentedSwitch& done) {
    const std::string name(map_.name_of(done.persona));
    const bool prompt = compositor_.prompt_shown();
    log_->info("presenting {}{} (epoch {})", name, prompt ? "'s PIN prompt" : "", done.epoch);
    if (focus_) {
        focus_->send(focus::AuditEvent{std::string(kBackendName) + ".switch",
                                       {{"persona", name}, {"epoch", done.epoch}, {"prompt", prompt}}});
    }
    if (on_switch_) on_switch_(done);
}

void DisplayBackend::report_rejected(std::string_view who_key, const nlohmann::json& who, const std::string& reason) {
    if (!focus_) return;
    focus_->send(focus::AuditEvent{std::string(kBackendName) + ".guest-rejected",
                                   {{std::string(who_key), who}, {"reason", bounded(reason)}}});
}

} // namespace twofold::display
