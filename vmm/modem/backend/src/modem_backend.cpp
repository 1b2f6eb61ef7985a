#include "twofold/modem/backend/modem_backend.h"

#include <algorithm>
#include <utility>

#include "twofold/xen/error.h"
#include "twofold/xenbus/node_reader.h"
#include "twofold/xenbus/xenstore_values.h"

namespace twofold::modem::backend {

// Mediator audit records become AuditEvents on the focus link (the manager writes the log);
// standalone they are only logged. Numbers were already redacted by the mediator.
class ModemBackend::AuditForwarder final : public mediator::AuditSink {
 public:
  AuditForwarder(ModemBackend& backend) : backend_(backend) {}

  void record(audit::Event event) override {
    nlohmann::json fields = nlohmann::json::object();
    if (event.persona) fields["persona"] = *event.persona;
    for (const auto& [key, value] : event.fields.items()) {
      if (fields.size() >= focus::kMaxAuditFields) break;  // the link's bound; ours are far below
      if (value.is_primitive()) fields[key] = value;
    }
    if (backend_.focus_) {
      backend_.focus_->send(focus::AuditEvent{event.kind, std::move(fields)});
    } else {
      backend_.log_->info("audit {} {}", event.kind, fields.dump());
    }
  }

 private:
  ModemBackend& backend_;
};

namespace {

std::vector<std::string> names_of(const ModemBackendConfig& config) {
  std::vector<std::string> names;
  for (const auto& rights : config.mediator.personas) names.push_back(rights.name);
  return names;
}

}  // namespace

ModemBackend::ModemBackend(xen::Platform& platform, ModemBackendConfig config, mediator::NumberRedactor redactor,
                           xen::UniqueFd modem_fd, std::optional<xen::UniqueFd> focus_fd, std::shared_ptr<spdlog::logger> log)
    : log_(std::move(log)),
      names_(names_of(config)),
      config_(std::move(config)),
      runtime_(platform, log_, config_.budget_per_wake),
      consoles_(names_, [this](const std::string& line) { log_->info("{}", line); }),
      line_(
          runtime_.io(), std::move(modem_fd),
          [this](std::string_view bytes) {
            mediator_->from_modem(bytes, mediator::Mediator::Clock::now());
            after_mediator_work();
          },
          [this](const std::string& why) {
            log_->error("{}; exiting (the manager restarts the backend)", why);
            stop(1);
          }),
      audit_(std::make_unique<AuditForwarder>(*this)),
      mediator_(std::make_unique<mediator::Mediator>(
          config_.mediator, line_, consoles_, *audit_, std::move(redactor),
          [this](std::string_view line) { log_->info("{}", line); })),
      service_(runtime_.services(), runtime_.own_domid(), xenbus::DeviceType::Console,
               [this](const xenbus::DevicePaths& paths) { return make_device(paths); }),
      ticker_(runtime_.io()) {
  consoles_.set_mediator(*mediator_);
  if (focus_fd) {
    focus_ = std::make_unique<focus::FocusClient>(
        runtime_.io(), std::move(*focus_fd), focus::Hello{"modem", {focus::Holder::ModemAudio}},
        [this](const focus::Focus& order) { return apply_focus(order); },
        [this](const std::string& why) {
          log_->info("{}; exiting", why);
          stop(0);
        },
        log_);
  } else if (config_.foreground) {
    foreground_ = persona_index(*config_.foreground);
    if (!foreground_) throw std::invalid_argument("--foreground " + *config_.foreground + ": no modem persona");
    mediator_->set_foreground(*foreground_);
  }
}

// The service (its devices hold endpoints in consoles_) goes first: members are destroyed in
// reverse order, and service_ is declared after consoles_ and the mediator.
ModemBackend::~ModemBackend() = default;

void ModemBackend::start() {
  line_.start();
  if (focus_) focus_->start();
  mediator_->start(mediator::Mediator::Clock::now());
  service_.start();
  arm_ticker();
}

void ModemBackend::stop(int exit_code) {
  exit_code_ = exit_code;
  mediator_->flush_suppressed_refusals();  // counted refusals become a record before we go
  runtime_.stop();
}

std::optional<mediator::PersonaIndex> ModemBackend::persona_index(std::string_view name) const {
  const auto it = std::find(names_.begin(), names_.end(), name);
  if (it == names_.end()) return std::nullopt;
  return static_cast<mediator::PersonaIndex>(it - names_.begin());
}

std::unique_ptr<xenbus::Device> ModemBackend::make_device(const xenbus::DevicePaths& paths) {
  // devid 0 is the guest's primary console (xenconsoled's); other devids are not ours either.
  if (paths.devid() != kModemConsoleDevid) return nullptr;
  const xenbus::NodeReader backend(runtime_.store(), paths.backend());
  // "name" is written by the manager in our own (dom0-owned) backend directory.
  auto name = backend.read("name", [](std::string_view s) {
    return xenbus::parse_name_in_set(s, std::vector<std::string_view>{kModemConsoleName});
  });
  if (!name) {
    log_->warn("console {}/{}: not a modem console ({})", paths.frontend_domid(), paths.devid(), name.error().message);
    return nullptr;
  }
  std::optional<std::string> untrusted_domain_name;
  try {
    untrusted_domain_name = runtime_.store().read(xenbus::domain_path(paths.frontend_domid()) + "/name");
  } catch (const xen::XenError&) {
    untrusted_domain_name.reset();  // the domain went away
  }
  if (!untrusted_domain_name) {
    log_->warn("console {}/{}: domain has no name; refused", paths.frontend_domid(), paths.devid());
    return nullptr;
  }
  std::vector<std::string_view> allowed(names_.begin(), names_.end());
  const auto persona = xenbus::parse_name_in_set(*untrusted_domain_name, allowed);
  if (!persona) {
    log_->warn("console {}/{}: domain is no modem persona; refused", paths.frontend_domid(), paths.devid());
    return nullptr;
  }
  log_->info("console {}/{}: modem of persona {}", paths.frontend_domid(), paths.devid(), names_[persona.value().index]);
  return std::make_unique<ModemConsoleDevice>(consoles_, persona.value().index);
}

std::optional<std::string> ModemBackend::apply_focus(const focus::Focus& order) {
  // Only input is ever sent to nobody; an incoming call must ring somewhere.
  if (!order.persona) return std::string("modem audio cannot follow nobody");
  const std::string& name = *order.persona;
  const auto persona = persona_index(name);
  if (!persona) {
    // A persona without a modem channel: calls that follow the foreground keep ringing
    // where they did (the manager's switch itself is not ours to refuse).
    log_->info("focus {} (epoch {}): no modem channel; incoming calls keep their persona", name, order.epoch);
    return std::nullopt;
  }
  mediator_->set_foreground(*persona);
  foreground_ = persona;
  log_->info("focus {} (epoch {}): incoming calls follow it", name, order.epoch);
  return std::nullopt;
}

void ModemBackend::after_mediator_work() { consoles_.pump_all(); }

void ModemBackend::arm_ticker() {
  ticker_.expires_after(config_.tick);
  ticker_.async_wait([this](const boost::system::error_code& error) {
    if (error) return;
    mediator_->tick(mediator::Mediator::Clock::now());
    after_mediator_work();
    arm_ticker();
  });
}

}  // namespace twofold::modem::backend
