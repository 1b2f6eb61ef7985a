#include "twofold/manager/manager.h"

#include <chrono>
#include <fstream>

#include <fmt/format.h>
#include <openssl/crypto.h>
#include <spdlog/spdlog.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>

#include "twofold/manager/child_process.h"
#include "twofold/net/plan.h"
#include "twofold/manager/pv_devices.h"
#include "twofold/manager/reconcile.h"

namespace twofold::manager {

namespace asio = boost::asio;
using nlohmann::json;

namespace {

Gesture to_gesture(policy::Gesture g) {
    switch (g) {
    case policy::Gesture::press: return Gesture::Press;
    case policy::Gesture::double_press: return Gesture::DoublePress;
    case policy::Gesture::long_press: return Gesture::LongPress;
    }
    return Gesture::Press;
}

control::Reply ok_reply(json result) { return control::Reply{true, std::move(result), {}, {}}; }
control::Reply error_reply(std::string code, std::string message) {
    return control::Reply{false, {}, std::move(code), std::move(message)};
}

constexpr const char* kForegroundFile = "foreground";
constexpr const char* kForegroundNode = "/local/domain/0/twofold/foreground";

} // namespace

GuestScreen guest_screen(const policy::Display& screen) {
    GuestScreen g;
    g.width = screen.width.value;
    g.height = screen.height.value - screen.indicator_height.value;
    constexpr std::uint64_t kMiB = 1024 * 1024;
    g.videoram_mib = static_cast<std::uint32_t>((std::uint64_t{g.width} * g.height * 4 + kMiB - 1) / kMiB);
    return g;
}

PersonaSpec persona_spec(const policy::Persona& p, const std::optional<policy::Display>& screen) {
    PersonaSpec spec;
    spec.name = p.name.value;
    spec.kind = std::string(policy::to_string(p.kind.value));
    spec.memory_mib = p.memory_mib.value;
    spec.vcpus = p.vcpus.value;
    spec.kernel = p.kernel.value;
    spec.initrd = p.initrd ? p.initrd->value : std::string{};
    spec.cmdline = p.cmdline.value;
    if (screen && p.devices.display.value) {
        // Linux xen-fbfront takes its mode only from this parameter (it reads just videoram from
        // the backend): the toolstack tells the guest the area under the indicator strip. A
        // guest that ignores it is still held to that mode by the display backend.
        const GuestScreen g = guest_screen(*screen);
        spec.cmdline += fmt::format(" xen_fbfront.video={},{},{}", g.videoram_mib, g.width, g.height);
    }
    // The persona's network interfaces, and its address on each (the guest has no DHCP client
    // to trust and dom0 offers no DHCP service): from the policy's address plan, through
    // twofold-net's plan, the one place that turns a subnet into the two ends' addresses.
    for (const auto& link : net::persona_links(p)) {
        spec.networks.push_back({link.bridge, {}});
        spec.cmdline += " " + net::guest_cmdline(link);
    }
    for (const auto& d : p.disks) {
        if (d.encrypted.value) {
            spec.disks.push_back({encrypted_volume_node(p.name.value, d.target.value), d.target.value, d.readonly.value, true});
        } else {
            spec.disks.push_back({d.path.value, d.target.value, d.readonly.value, false});
        }
    }
    return spec;
}

Manager::Manager(asio::io_context& io, policy::Policy policy, ManagerOptions options,
                 std::unique_ptr<DomainControl> libvirt, std::unique_ptr<xen::XenStore> xenstore,
                 std::unique_ptr<audit::Writer> audit, std::unique_ptr<xen::XenStore> permission_watch,
                 std::unique_ptr<xen::XenStore> notice_watch)
    : io_(io), policy_(std::move(policy)), options_(std::move(options)), xenstore_(std::move(xenstore)),
      audit_(std::move(audit)), permission_watch_(std::move(permission_watch)), notice_watch_(std::move(notice_watch)),
      libvirt_(std::move(libvirt)),
      supervision_timer_(io), shutdown_timer_(io) {
    if (!libvirt_) {
        throw std::invalid_argument("Manager needs a DomainControl");
    }
    if (permission_watch_) {
        // The node is closed on the guard's thread; the record waits for this loop.
        permission_guard_ = std::make_unique<XenstorePermissionGuard>(
            *permission_watch_, [this](const XenstorePermissionGuard::Reset& reset) {
                spdlog::warn("persona {}: opened its xenstore node {} ({}); closed again", reset.persona, reset.path,
                             reset.was);
                boost::asio::post(io_, [this, reset] {
                    focus::AuditEvent event{"xenstore.permissions-reset",
                                            {{"persona", reset.persona}, {"path", reset.path}, {"was", reset.was}}};
                    if (permission_audit_.admit(event, focus::AuditLimiter::Clock::now())) {
                        this->audit(event.event, reset.persona, std::move(event.fields));
                    }
                });
            });
    }
    if (xenstore_) foreground_nodes_ = std::make_unique<ForegroundNodes>(*xenstore_);
    if (notice_watch_) {
        notices_ = std::make_unique<PersonaNotices>(io_, *notice_watch_,
                                                    [this](const std::string& persona) { persona_notice(persona); });
    }
    std::vector<std::string> names;
    for (const auto& p : policy_.personas) {
        names.push_back(p.name.value);
        personas_.emplace(p.name.value,
                          PersonaState{&p, persona_spec(p, policy_.board.display),
                                       RestartBudget(p.restart.max_attempts.value, std::chrono::seconds(p.restart.window_seconds.value)),
                                       false, false, std::nullopt, 0});
    }
    const std::string initial = recovered_foreground().value_or(policy_.default_foreground.value);
    // No holder until a supervised backend says hello (BackendEvents below); a switch with no
    // holder registered commits at once.
    foreground_ = std::make_unique<ForegroundStateMachine>(names, initial, std::set<FocusHolder>{});
    // A per_persona backend's instances are told their persona's kind (a secure instance may
    // be stricter), in the policy's order of personas.
    std::vector<SupervisedPersona> supervised;
    for (const auto& p : policy_.personas) {
        supervised.push_back({p.name.value, std::string(policy::to_string(p.kind.value))});
    }
    backends_ = std::make_unique<BackendSupervisor>(io_, options_.backends, std::move(supervised),
                                                    static_cast<BackendEvents&>(*this), options_.open_xenstore);
}

Manager::~Manager() {
    if (sealed_) {
        return;
    }
    backends_->stop_all(options_.backend_stop_grace); // audited before the seal
    if (audit_) {
        audit("manager.stop", std::nullopt, {{"foreground", foreground()}});
        // Seal on the way out so a verifier sees every record of this run signed.
        if (const auto status = audit_->seal(); !status.ok()) {
            spdlog::critical("audit: cannot seal on shutdown: {}", status.message());
        }
    }
}

void Manager::audit(const std::string& kind, const std::optional<std::string>& persona, json fields) {
    if (!audit_) {
        return;
    }
    const auto status = audit_->append(audit::Event{kind, persona, std::move(fields)});
    if (!status.ok()) {
        spdlog::critical("audit: cannot record {}: {}", kind, status.message());
    }
}

bool Manager::start() {
    audit("manager.start", std::nullopt, {{"libvirt", options_.libvirt_uri}, {"foreground", foreground()}});
    audit("policy.load", std::nullopt, {{"source", policy_.source}, {"personas", personas_.size()}});

    backends_->start(/*after_personas=*/false);
    // In the policy's order: the officer lists first the persona that should come up first.
    std::vector<PersonaSpec> specs;
    for (const auto& p : policy_.personas) {
        const auto& state = personas_.at(p.name.value);
        if (const auto missing = locked_volume(state)) {
            // Started by `twofold start` once dom0 has opened the volume (twofold secure unlock).
            spdlog::info("persona {}: locked: {} is not open", p.name.value, *missing);
            audit("persona.locked", p.name.value, {{"volume", *missing}});
            continue;
        }
        specs.push_back(state.spec);
    }
    const auto report = reconcile(specs, *libvirt_, options_.flavor, plumb_before_guest_runs());
    for (const auto& r : report.personas) {
        if (r.action == ReconcileAction::Failed) {
            spdlog::error("persona {}: start failed: {}", r.persona, r.detail);
            audit("persona.start-failed", r.persona, {{"error", r.detail}});
            continue;
        }
        spdlog::info("persona {}: {} (domid {})", r.persona, to_string(r.action), r.domid);
        audit(r.action == ReconcileAction::AlreadyRunning ? "persona.recovered" : "persona.start", r.persona,
              {{"domid", r.domid}});
        plumb_if_found_running(r);
    }
    for (const auto& name : report.unmanaged) {
        spdlog::warn("libvirt domain '{}' is not in the policy; left alone", name);
    }

    backends_->start(/*after_personas=*/true);
    persist_foreground();
    control_ = std::make_unique<control::ControlServer>(io_, options_.control_socket, options_.control_access, *this);
    if (options_.use_hardware_key) {
        const auto& k = policy_.hardware_key;
        HardwareKeyConfig config{k.device.value, k.code.value, to_gesture(k.gesture.value),
                                 GestureTiming{std::chrono::milliseconds(k.debounce_ms.value),
                                               std::chrono::milliseconds(k.double_press_window_ms.value),
                                               std::chrono::milliseconds(k.long_press_ms.value)}};
        key_ = std::make_unique<HardwareKey>(io_, config, [this](Gesture) {
            hardware_key_switch([](const control::Reply&) {});
        });
    }
    arm_supervision();
    stall_meter_.start();
    spdlog::info("twofold-manager: serving on {}, foreground {}", options_.control_socket.string(), foreground());
    return report.ok();
}

std::optional<std::string> Manager::locked_volume(const PersonaState& state) const {
    for (const auto& d : state.spec.disks) {
        if (!d.block) {
            continue;
        }
        const bool present = options_.block_device_present ? options_.block_device_present(d.source)
                                                           : std::filesystem::exists(d.source);
        if (!present) {
            return d.source;
        }
    }
    return std::nullopt;
}

BeforeGuestRuns Manager::plumb_before_guest_runs() {
    return [this](const std::string& persona, int domid) { plumb_devices(persona, domid); };
}

void Manager::plumb_if_found_running(const ReconcileResult& r) {
    if (r.action == ReconcileAction::AlreadyRunning) {
        plumb_devices(r.persona, r.domid);
    }
}

void Manager::plumb_devices(const std::string& persona, int domid) {
    if (!xenstore_ || domid <= 0) {
        return;
    }
    if (permission_guard_) {
        try {
            permission_guard_->guard(persona, static_cast<xen::DomId>(domid));
        } catch (const std::exception& e) {
            spdlog::error("persona {}: cannot watch its xenstore permissions: {}", persona, e.what());
            audit("xenstore.guard-failed", persona, {{"error", e.what()}});
        }
    }
    if (notices_) {
        try {
            notices_->watch(persona, static_cast<xen::DomId>(domid));
        } catch (const std::exception& e) {
            spdlog::error("persona {}: cannot watch its notice node: {}", persona, e.what());
        }
    }
    const auto& p = *personas_.at(persona).policy;
    if (foreground_nodes_ && p.kind.value == policy::PersonaKind::secure) {
        foreground_nodes_->attach(persona, static_cast<xen::DomId>(domid), foreground_->place());
    }
    // A device is offered only when its backend is configured: a guest kernel waits at boot
    // (up to 30 s for vfb/vkbd, longer for a console) for every device it has a driver for.
    const auto served = [this](const char* backend) { return backends_ && backends_->configured(backend); };
    std::vector<PvDevice> devices;
    if (p.devices.display.value && served("display")) {
        // The guest's mode is on its kernel command line (persona_spec); xen-fbfront bounds its
        // framebuffer by "videoram" here, and the display backend reads the same mode.
        std::vector<std::pair<std::string, std::string>> settings;
        if (const auto& screen = policy_.board.display) {
            const GuestScreen g = guest_screen(*screen);
            settings = {{"width", std::to_string(g.width)},
                        {"height", std::to_string(g.height)},
                        {"videoram", std::to_string(g.videoram_mib)}};
        }
        devices.push_back({PvDeviceType::Vfb, 0, xen::kDom0, std::move(settings)});
    }
    if (p.devices.input.value && served("input")) {
        devices.push_back({PvDeviceType::Vkbd, 0, xen::kDom0, {}});
    }
    if (p.modem && served("modem")) {
        devices.push_back({PvDeviceType::Console, 1, xen::kDom0, {{"name", "modem"}, {"protocol", "vt100"}}});
    }
    const auto frontend = static_cast<xen::DomId>(domid);
    // Before the entries exist: a proxied backend sees them as soon as they are written.
    if (backends_) backends_->persona_domain(persona, frontend);
    PvDevicePlumber plumber(*xenstore_);
    for (const auto& d : devices) {
        try {
            // A recovered persona keeps its connected devices: re-plumbing would reset them.
            if (!plumber.plumbed(frontend, d)) {
                plumber.plumb(frontend, d);
                audit("device.plumb", persona, {{"type", xenstore_type_name(d.type)}, {"devid", d.devid}});
            }
        } catch (const std::exception& e) {
            spdlog::error("persona {}: cannot plumb {}: {}", persona, xenstore_type_name(d.type), e.what());
        }
    }
}

void Manager::arm_supervision() {
    supervision_timer_.expires_after(options_.supervise_every);
    supervision_timer_.async_wait([this](const boost::system::error_code& ec) {
        if (ec) {
            return;
        }
        supervise();
        arm_supervision();
    });
}

void Manager::supervise() {
    if (backends_) {
        backends_->report_audit_drops(); // a flood that stopped is still counted
    }
    for (const auto& summary : permission_audit_.due(focus::AuditLimiter::Clock::now())) {
        const auto persona = summary.fields.value("persona", std::string{});
        audit(summary.event, persona.empty() ? std::nullopt : std::optional<std::string>(persona), summary.fields);
    }
    if (audit_) {
        // A quiet log still gets a signed checkpoint every checkpoint period.
        if (const auto status = audit_->checkpoint_if_due(); !status.ok()) {
            spdlog::critical("audit: checkpoint failed: {}", status.message());
        }
    }
    if (shutting_down_) {
        return; // the personas are being stopped on purpose
    }
    const auto now = RestartBudget::Clock::now();
    for (auto& [name, state] : personas_) {
        std::optional<DomainInfo> info;
        try {
            info = libvirt_->find(name);
        } catch (const LibvirtError& e) {
            spdlog::error("persona {}: cannot read state: {}", name, e.what());
            continue;
        }
        if (info && info->state == DomainState::Running) {
            state.retry_at.reset();
            continue;
        }
        if (state.stopped_by_operator || state.gave_up || locked_volume(state)) {
            continue;
        }
        if (state.policy->restart.policy.value == policy::RestartPolicy::never) {
            state.gave_up = true;
            audit("persona.stopped", name, {{"restart", "never"}});
            continue;
        }
        const auto next = state.budget.next_attempt(now);
        if (!next) {
            state.gave_up = true;
            spdlog::error("persona {}: restart budget exhausted; not restarting", name);
            audit("persona.restart-abandoned", name, {{"attempts", state.budget.attempts_in_window(now)}});
            continue;
        }
        if (*next > now) {
            state.retry_at = next;
            continue;
        }
        state.budget.record_attempt(now);
        const auto report = reconcile({state.spec}, *libvirt_, options_.flavor, plumb_before_guest_runs());
        const auto& r = report.personas.front();
        ++state.restarts;
        audit("persona.restart", name,
              {{"ok", r.action != ReconcileAction::Failed}, {"domid", r.domid}, {"error", r.detail}, {"attempt", state.restarts}});
        if (r.action != ReconcileAction::Failed) {
            spdlog::warn("persona {}: was not running; restarted (domid {})", name, r.domid);
            plumb_if_found_running(r);
        }
    }
}

void Manager::handle(const control::Request& request, const control::PeerCredentials& peer,
                     std::function<void(control::Reply)> done) {
    if (audit_ && audit_->failed() && !std::holds_alternative<control::StatusRequest>(request.command)) {
        // Fail closed: no unaudited state change.
        done(error_reply("audit-failed", "the audit log cannot be written; state changes are refused"));
        return;
    }
    if (shutting_down_ && !std::holds_alternative<control::StatusRequest>(request.command)) {
        done(error_reply("shutting-down", "the manager is shutting the device down"));
        return;
    }
    std::visit(
        [&](const auto& cmd) {
            using T = std::decay_t<decltype(cmd)>;
            if constexpr (std::is_same_v<T, control::StatusRequest>) {
                done(ok_reply(status_json()));
            } else if constexpr (std::is_same_v<T, control::SwitchRequest>) {
                audit("control.switch", cmd.persona, {{"uid", peer.uid}, {"pid", peer.pid}});
                request_switch(cmd.persona, SwitchSource::Cli, std::move(done));
            } else if constexpr (std::is_same_v<T, control::ShutdownRequest>) {
                audit("control.shutdown", std::nullopt, {{"uid", peer.uid}, {"pid", peer.pid}});
                shutdown(std::move(done));
            } else if constexpr (std::is_same_v<T, control::VolumeRequest>) {
                // Never the PIN: only who asked for what.
                audit(std::string("control.") + control::to_string(cmd.action), cmd.persona, {{"uid", peer.uid}, {"pid", peer.pid}});
                volume(cmd, std::move(done));
            } else {
                audit(std::string("control.") + control::to_string(cmd.action), cmd.persona, {{"uid", peer.uid}, {"pid", peer.pid}});
                lifecycle(cmd, std::move(done));
            }
        },
        request.command);
}

void Manager::hardware_key_switch(std::function<void(control::Reply)> done) {
    if (shutting_down_) {
        done(error_reply("shutting-down", "the manager is shutting the device down"));
        return;
    }
    request_switch(std::nullopt, SwitchSource::HardwareKey, std::move(done));
}

void Manager::request_switch(std::optional<std::string> target, SwitchSource source, std::function<void(control::Reply)> done) {
    // A locked persona is reached through dom0's PIN prompt when there is a screen to draw it on
    // and keys to type with; without them (a headless board) `twofold secure unlock` is the way.
    const std::string wanted = target.value_or(foreground_->toggle_target());
    if (const auto it = personas_.find(wanted); it != personas_.end() && locked_volume(it->second) && prompt_possible()) {
        open_prompt(wanted, source, std::move(done));
        return;
    }
    std::vector<Command> commands;
    const auto outcome = foreground_->request({target, source}, commands);
    switch (outcome) {
    case RequestOutcome::UnknownPersona:
        done(error_reply("unknown-persona", "no persona named '" + target.value_or("") + "' in the policy"));
        return;
    case RequestOutcome::AlreadyThere:
        if (!foreground_->switching()) {
            done(ok_reply({{"foreground", foreground()}, {"changed", false}}));
            return;
        }
        break;
    case RequestOutcome::Started:
    case RequestOutcome::Queued:
        break;
    }
    const std::string landing = foreground_->queued().value_or(foreground_->switching_to().value_or(foreground_->place()));
    switch_waiters_.push_back({target.value_or(landing), std::move(done)});
    run_commands(commands);
}

bool Manager::prompt_possible() const {
    const auto& holders = foreground_->holders();
    return holders.count(FocusHolder::Display) != 0 && holders.count(FocusHolder::Input) != 0;
}

std::optional<std::string> Manager::persona_at(const std::string& place) const {
    if (place == kPinPromptPlace) return prompt_.persona();
    return place;
}

void Manager::open_prompt(const std::string& persona, SwitchSource source, std::function<void(control::Reply)> done) {
    if (prompt_.persona() != persona) prompt_.open(persona);
    std::vector<Command> commands;
    const auto outcome = foreground_->request_prompt(source, commands);
    if (outcome == RequestOutcome::AlreadyThere && !foreground_->switching()) {
        done(ok_reply({{"foreground", foreground()}, {"prompt", persona}, {"changed", false}}));
        return;
    }
    switch_waiters_.push_back({std::string(kPinPromptPlace), std::move(done)});
    run_commands(commands);
}

void Manager::redraw_prompt() {
    backends_->send_prompt_update(FocusHolder::Display, focus::PromptUpdate{prompt_display_epoch_, prompt_.view()});
}

bool Manager::prompt_key(focus::PromptKey key) {
    if (!foreground_->input_may_be_at_prompt()) {
        return false; // no order put input at the prompt: the backend made the key up
    }
    if (!foreground_->at_prompt() || !prompt_.open()) {
        ++prompt_keys_dropped_; // typed while the prompt opens or closes: nobody's
        return true;
    }
    const auto refused_before = prompt_.keys_refused();
    switch (prompt_.key(key, PinPrompt::Clock::now())) {
    case PinPrompt::Action::None:
        if (prompt_.keys_refused() != refused_before && prompt_refusals_logged_++ % 100 == 0) {
            spdlog::warn("PIN prompt: {} keys over {} a second refused so far", prompt_.keys_refused(), PinPrompt::kMaxKeysPerSecond);
            audit("prompt.keys-refused", prompt_.persona(), {{"refused", prompt_.keys_refused()}});
        }
        break;
    case PinPrompt::Action::Redraw:
        redraw_prompt();
        break;
    case PinPrompt::Action::Submit:
        redraw_prompt();
        submit_prompt();
        break;
    case PinPrompt::Action::Cancel:
        audit("prompt.cancel", prompt_.persona(), json::object());
        request_switch(foreground(), SwitchSource::PinPrompt, [](const control::Reply&) {});
        break;
    }
    return true;
}

void Manager::submit_prompt() {
    const std::string persona = prompt_.persona().value_or("");
    std::string pin = prompt_.take_pin();
    control::VolumeRequest request{control::VolumeAction::Unlock, persona, pin, {}};
    OPENSSL_cleanse(pin.data(), pin.capacity());
    // Outcomes only, as for the CLI: who asked (the prompt), then volume.unlock's outcome.
    audit("prompt.submit", persona, json::object());
    volume(request, [this, persona](const control::Reply& reply) { prompt_outcome(persona, reply); });
    OPENSSL_cleanse(request.pin.data(), request.pin.capacity());
}

void Manager::prompt_outcome(const std::string& persona, const control::Reply& reply) {
    if (!prompt_.open() || prompt_.persona() != persona) {
        return; // the prompt was left meanwhile; the volume is as the keystore left it
    }
    if (reply.ok) {
        prompt_.outcome("ok", std::nullopt);
        redraw_prompt();
        // Unlocked and started: from the prompt to the persona, by the same three phases.
        request_switch(persona, SwitchSource::PinPrompt, [](const control::Reply&) {});
        return;
    }
    std::optional<std::int64_t> attempts;
    if (const auto it = reply.result.find("attempts_left"); it != reply.result.end() && it->is_number_integer()) {
        attempts = it->get<std::int64_t>();
    }
    prompt_.outcome(reply.error_code, attempts);
    redraw_prompt();
}

void Manager::run_commands(std::vector<Command>& commands) {
    for (std::size_t i = 0; i < commands.size(); ++i) {
        const Command command = commands[i];
        if (const auto* send = std::get_if<SendFocus>(&command)) {
            spdlog::debug("switch {}: focus {} -> {}", send->epoch, to_string(send->holder), send->persona.value_or("nobody"));
            if (send->persona == kPinPromptPlace) {
                // The prompt is drawn under its persona's indicator; input goes to the manager.
                if (send->holder == FocusHolder::Display) prompt_display_epoch_ = send->epoch;
                backends_->send_focus(send->holder, prompt_.persona().value_or(foreground()), send->epoch, prompt_.view());
            } else {
                backends_->send_focus(send->holder, send->persona, send->epoch);
            }
        } else if (const auto* arm = std::get_if<ArmTimeout>(&command)) {
            arm_switch_timeout(arm->epoch, options_.switch_timeout, 0);
        } else if (const auto* commit = std::get_if<SwitchCommitted>(&command)) {
            spdlog::info("foreground: {} -> {} ({})", commit->from, commit->to, to_string(commit->source));
            if (foreground_nodes_) foreground_nodes_->foreground_is(commit->to);
            if (commit->to == kPinPromptPlace) {
                audit("prompt.open", prompt_.persona(), {{"from", commit->from}, {"source", to_string(commit->source)}, {"epoch", commit->epoch}});
            } else {
                audit("switch.commit", commit->to, {{"from", commit->from}, {"source", to_string(commit->source)}, {"epoch", commit->epoch}});
                persist_foreground();
                if (notice_marks_.erase(commit->to) != 0) send_notice(commit->to, false); // seen now
                if (commit->from == kPinPromptPlace) {
                    audit("prompt.close", prompt_.persona(), {{"to", commit->to}, {"epoch", commit->epoch}});
                    prompt_.close();
                }
            }
        } else if (const auto* abort = std::get_if<SwitchAborted>(&command)) {
            spdlog::error("foreground: switch to {} aborted: {}", abort->wanted, abort->reason);
            if (abort->input_parked) {
                spdlog::error("foreground: input parked (keys and touches reach no persona) until the next switch or "
                              "the display backend's return");
            }
            audit("switch.abort", persona_at(abort->wanted),
                  {{"kept", abort->kept}, {"reason", abort->reason}, {"epoch", abort->epoch}, {"input_parked", abort->input_parked},
                   {"prompt", abort->wanted == kPinPromptPlace}});
            if (abort->input_parked || (abort->wanted == kPinPromptPlace && !foreground_->at_prompt())) {
                prompt_.close(); // the prompt is not (or no longer) on screen with input
            }
        }
    }
    if (foreground_->switching()) {
        return;
    }
    switch_timers_.clear(); // no switch in flight: no timeout may fire for an ended one
    // Settled: answer everyone who waited. A request superseded by a later one is told so.
    auto waiters = std::move(switch_waiters_);
    switch_waiters_.clear();
    const std::string place = foreground_->place();
    for (auto& w : waiters) {
        if (w.target == place && place == kPinPromptPlace) {
            w.done(ok_reply({{"foreground", foreground()}, {"prompt", prompt_.persona().value_or("")}, {"changed", true}}));
        } else if (w.target == place) {
            w.done(ok_reply({{"foreground", foreground()}, {"changed", true}}));
        } else {
            w.done(error_reply("switch-not-done", "the foreground is '" + place + "', not '" + w.target +
                                                      "' (aborted or superseded by a later request)"));
        }
    }
}

void Manager::arm_switch_timeout(std::uint64_t epoch, std::chrono::steady_clock::duration wait, int extensions) {
    auto timer = std::make_unique<asio::steady_timer>(io_, wait);
    const auto armed = std::chrono::steady_clock::now();
    timer->async_wait([this, epoch, armed, wait, extensions, alive = std::weak_ptr<int>(alive_)](const boost::system::error_code& ec) {
        // Cancelled, or fired just before the manager went away (no longer cancellable): touch nothing.
        if (ec || alive.expired()) {
            return;
        }
        switch_timers_.erase(epoch);
        // The backends had the whole wait only if this loop could read their answers meanwhile.
        const auto now = std::chrono::steady_clock::now();
        const auto stalled = std::max(stall_meter_.stalled_since(armed), now - armed - wait);
        if (stalled >= kMinCountedStall && extensions < kMaxTimeoutExtensions) {
            spdlog::warn("switch epoch {}: this loop was blocked for {} ms of the wait; waiting that much longer", epoch,
                         std::chrono::duration_cast<std::chrono::milliseconds>(stalled).count());
            arm_switch_timeout(epoch, stalled, extensions + 1);
            return;
        }
        std::vector<Command> more;
        foreground_->timeout(epoch, more);
        run_commands(more);
    });
    switch_timers_[epoch] = std::move(timer);
}

void Manager::lifecycle(const control::LifecycleRequest& request, std::function<void(control::Reply)> done) {
    const auto it = personas_.find(request.persona);
    if (it == personas_.end()) {
        done(error_reply("unknown-persona", "no persona named '" + request.persona + "' in the policy"));
        return;
    }
    auto& state = it->second;
    try {
        const auto info = libvirt_->find(request.persona);
        const bool running = info && info->state == DomainState::Running;
        if (request.action != control::LifecycleAction::Start && running) {
            // Hard stop: a persona that ignores a shutdown request must not stay up against
            // the operator's (or security officer's) decision.
            libvirt_->destroy(request.persona);
        }
        state.stopped_by_operator = request.action == control::LifecycleAction::Stop;
        state.gave_up = false;
        if (request.action == control::LifecycleAction::Stop) {
            audit("persona.stop", request.persona, {{"was_running", running}});
            done(ok_reply({{"persona", request.persona}, {"state", "shut-off"}}));
            return;
        }
        if (request.action == control::LifecycleAction::Start && running) {
            done(ok_reply({{"persona", request.persona}, {"state", "running"}, {"changed", false}}));
            return;
        }
        if (const auto missing = locked_volume(state)) {
            done(error_reply("locked", "persona '" + request.persona + "' is locked: " + *missing +
                                           " is not open (twofold secure unlock)"));
            return;
        }
        const auto report = reconcile({state.spec}, *libvirt_, options_.flavor, plumb_before_guest_runs());
        const auto& r = report.personas.front();
        if (r.action == ReconcileAction::Failed) {
            audit("persona.start-failed", request.persona, {{"error", r.detail}});
            done(error_reply("start-failed", r.detail));
            return;
        }
        audit("persona.start", request.persona, {{"domid", r.domid}, {"restart", request.action == control::LifecycleAction::Restart}});
        plumb_if_found_running(r);
        done(ok_reply({{"persona", request.persona}, {"state", "running"}, {"domid", r.domid}}));
    } catch (const LibvirtError& e) {
        done(error_reply("libvirt", e.what()));
    }
}

// One keystore call's outcome, for the audit trail and the reply.
struct KeystoreStep {
    const char* audit_kind; // nullptr: not audited (status)
    KeystoreAnswer answer;
};

namespace {

// Runs twofold-keystore (blocking) and logs the outcome and time, never the PIN: under the
// board's emulator a KDF or a TPM round trip takes seconds, and the log shows which one.
KeystoreAnswer run_keystore(const KeystoreClient& client, const std::string& persona, std::string_view verb,
                            const std::string& volume, const std::string& mapper, std::string_view pin_lines) {
    const auto start = std::chrono::steady_clock::now();
    auto a = client.run(verb, volume, mapper, pin_lines);
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
    std::string split; // what the keystore spent where, as `twofold secure unlock` prints it
    if (const auto t = a.doc.find("timings_ms"); t != a.doc.end() && t->is_object()) {
        split = fmt::format(" (TPM {} ms, key derivation {} ms)", t->value("tpm", 0), t->value("kdf", 0));
    }
    spdlog::info("volume {}: twofold-keystore {}: {} in {} ms{}", persona, verb, a.outcome, ms.count(), split);
    return a;
}

control::Reply keystore_reply(const std::string& persona, const KeystoreAnswer& a) {
    json result = a.doc;
    result["persona"] = persona;
    if (a.outcome == "ok" || a.outcome == "status") {
        return ok_reply(std::move(result));
    }
    std::string message = a.doc.value("detail", a.outcome);
    if (a.doc.contains("attempts_left") && (a.outcome == "wrong-pin" || a.outcome == "locked-out")) {
        message += " (" + a.doc["attempts_left"].dump() + " tries left)";
    }
    control::Reply reply = error_reply(a.outcome, std::move(message));
    reply.result = std::move(result); // the prompt reads attempts_left from it
    return reply;
}

} // namespace

void Manager::volume(const control::VolumeRequest& request, std::function<void(control::Reply)> done) {
    const auto it = personas_.find(request.persona);
    if (it == personas_.end()) {
        done(error_reply("unknown-persona", "no persona named '" + request.persona + "' in the policy"));
        return;
    }
    const policy::Persona& p = *it->second.policy;
    const policy::Disk* disk = nullptr;
    for (const auto& d : p.disks) {
        if (d.encrypted.value) {
            disk = &d;
            break;
        }
    }
    if (!disk) {
        done(error_reply("no-encrypted-volume", "persona '" + request.persona + "' has no encrypted disk in the policy"));
        return;
    }
    if (volume_busy_) {
        // One keystore operation at a time: two could race on the sealed file and the TPM's
        // dictionary-attack counter.
        done(error_reply("busy", "another volume request is in progress; try again when it has finished"));
        return;
    }
    const std::string node = encrypted_volume_node(request.persona, disk->target.value);
    const std::string mapper = node.substr(node.rfind('/') + 1);
    bool running = false;
    try {
        const auto info = libvirt_->find(request.persona);
        running = info && info->state == DomainState::Running;
    } catch (const LibvirtError& e) {
        done(error_reply("libvirt", e.what()));
        return;
    }
    if (request.action == control::VolumeAction::Unlock && !locked_volume(it->second)) {
        done(ok_reply({{"persona", request.persona}, {"outcome", "ok"}, {"detail", "already unlocked"}}));
        return;
    }
    if ((request.action == control::VolumeAction::Lock || request.action == control::VolumeAction::Wipe) && running) {
        // The guest must not keep writing to a volume that is being closed or erased.
        libvirt_->destroy(request.persona);
        audit("persona.stop", request.persona, {{"was_running", true}, {"reason", control::to_string(request.action)}});
    }

    // The keystore's work (argon2id, TPM round trips: seconds on a board) runs on the keystore
    // worker, so switching and supervision go on meanwhile; its answer comes back here.
    const std::string persona = request.persona;
    const std::string volume_path = disk->path.value;
    const auto action = request.action;
    std::string pin = request.pin;
    std::string new_pin = request.new_pin;
    KeystoreOptions keystore_options = options_.keystore;
    keystore_options.retry_limit = disk->pin_retries.value; // the policy's, per volume
    auto work = [client = KeystoreClient(keystore_options), persona, volume_path, mapper, action,
                 pin = std::move(pin), new_pin = std::move(new_pin)]() mutable {
        std::vector<KeystoreStep> steps;
        const auto run = [&](std::string_view verb, const std::string& lines) {
            return run_keystore(client, persona, verb, volume_path, mapper, lines);
        };
        switch (action) {
        case control::VolumeAction::Status:
            steps.push_back({nullptr, run("status", "")});
            break;
        case control::VolumeAction::Lock:
            steps.push_back({"volume.lock", run("lock", "")});
            break;
        case control::VolumeAction::Wipe:
            steps.push_back({"volume.wipe", run("wipe", "")});
            break;
        case control::VolumeAction::ChangePin: {
            auto a = run("change-pin", pin + "\n" + new_pin + "\n");
            steps.push_back({a.outcome == "wiped" ? "volume.wiped" : "volume.change-pin", std::move(a)});
            break;
        }
        case control::VolumeAction::Unlock: {
            auto a = run("unlock", pin + "\n");
            if (a.outcome == "not-provisioned") {
                // First use of this device (or first use after a wipe): the PIN given now
                // becomes the officer's PIN. The keystore refuses to format a volume that
                // holds data.
                auto provisioned = run("provision", pin + "\n");
                const bool ok = provisioned.outcome == "ok";
                steps.push_back({"volume.provision", std::move(provisioned)});
                if (!ok) break;
                a = run("unlock", pin + "\n");
            }
            steps.push_back({a.outcome == "wiped" ? "volume.wiped" : "volume.unlock", std::move(a)});
            break;
        }
        }
        OPENSSL_cleanse(pin.data(), pin.size());
        OPENSSL_cleanse(new_pin.data(), new_pin.size());
        return steps;
    };
    // The lambda has the PINs; a short moved-from string may still hold them in its own buffer.
    OPENSSL_cleanse(pin.data(), pin.capacity());
    OPENSSL_cleanse(new_pin.data(), new_pin.capacity());
    volume_busy_ = true;
    // The guard keeps io_ running (no other work may be pending in a test) until the answer is back.
    boost::asio::post(*keystore_worker_, [this, work = std::move(work), persona, action, done = std::move(done),
                                          guard = boost::asio::make_work_guard(io_)]() mutable {
        auto steps = work();
        boost::asio::post(io_, [this, steps = std::move(steps), persona, action, done = std::move(done),
                                guard = std::move(guard)]() mutable {
            volume_busy_ = false;
            volume_finished(persona, action, std::move(steps), std::move(done));
        });
    });
}

void Manager::volume_finished(const std::string& persona, control::VolumeAction action, std::vector<KeystoreStep> steps,
                              std::function<void(control::Reply)> done) {
    for (const auto& step : steps) {
        if (!step.audit_kind) continue;
        const auto& a = step.answer;
        json fields{{"outcome", a.outcome}};
        for (const char* key : {"attempts_left", "changed_pcrs"}) {
            if (a.doc.contains(key)) fields[key] = a.doc[key];
        }
        if (a.outcome == "error" || a.outcome == "measurements-changed" || a.outcome == "not-provisioned") {
            fields["detail"] = a.doc.value("detail", "");
        }
        audit(step.audit_kind, persona, std::move(fields));
    }
    KeystoreAnswer a = steps.back().answer;
    const auto it = personas_.find(persona);
    if (action == control::VolumeAction::Status) {
        a.doc["locked"] = it != personas_.end() && locked_volume(it->second).has_value();
    }
    if (action != control::VolumeAction::Unlock || a.outcome != "ok" || shutting_down_) {
        done(keystore_reply(persona, a));
        return;
    }
    // Open: the persona may start now (and is started, unless the operator stopped it).
    if (it == personas_.end() || it->second.stopped_by_operator) {
        done(keystore_reply(persona, a));
        return;
    }
    lifecycle(control::LifecycleRequest{control::LifecycleAction::Start, persona},
              [done = std::move(done), a](control::Reply started) {
                  if (started.ok) {
                      started.result["outcome"] = "ok";
                      started.result["detail"] = a.doc.value("detail", "unlocked");
                      if (a.doc.contains("timings_ms")) started.result["timings_ms"] = a.doc["timings_ms"];
                  }
                  done(std::move(started));
              });
}

json Manager::status_json() {
    json personas = json::array();
    for (const auto& [name, state] : personas_) {
        json p{{"name", name}, {"kind", state.spec.kind}, {"restarts", state.restarts},
               {"restart_policy", policy::to_string(state.policy->restart.policy.value)},
               {"stopped_by_operator", state.stopped_by_operator}, {"restart_abandoned", state.gave_up}};
        try {
            const auto info = libvirt_->find(name);
            p["state"] = info ? to_string(info->state) : "undefined";
            p["domid"] = info && info->id >= 0 ? json(info->id) : json(nullptr);
        } catch (const LibvirtError& e) {
            p["state"] = "unknown";
            p["error"] = e.what();
        }
        p["foreground"] = name == foreground();
        p["locked"] = locked_volume(state).has_value();
        personas.push_back(std::move(p));
    }
    json out{{"foreground", foreground()}, {"personas", personas}, {"backends", backends_->status()},
             {"shutting_down", shutting_down_}};
    const auto lv = libvirt_->status();
    out["libvirt"] = {{"kind", lv.kind}, {"uri", lv.uri}, {"restarts", lv.restarts},
                      {"pid", lv.pid >= 0 ? json(lv.pid) : json(nullptr)},
                      {"last_error", lv.last_error.empty() ? json(nullptr) : json(lv.last_error)}};
    out["switching_to"] = foreground_->switching() ? json(*foreground_->switching_to()) : json(nullptr);
    out["switch_phase"] = foreground_->phase() ? json(to_string(*foreground_->phase())) : json(nullptr);
    out["input_parked"] = foreground_->input_parked();
    out["pin_prompt"] = {{"open", prompt_.open()}, {"persona", prompt_.persona() ? json(*prompt_.persona()) : json(nullptr)},
                         {"up", foreground_->at_prompt()}, {"checking", prompt_.checking()},
                         {"keys_refused", prompt_.keys_refused()}, {"keys_dropped", prompt_keys_dropped_}};
    out["notice_marks"] = notice_marks_;
    out["hardware_key"] = {{"enabled", key_ != nullptr}, {"open", key_ && key_->open()},
                           {"device", policy_.hardware_key.device.value}};
    if (audit_) {
        out["audit"] = {{"last_sequence", audit_->last_sequence()},
                        {"failed", audit_->failed()},
                        {"reserve", audit_->reserve_held()},
                        {"files_retired", audit_->files_retired()}};
    }
    return out;
}

void Manager::shutdown(std::function<void(control::Reply)> done) {
    shutting_down_ = true;
    spdlog::warn("twofold-manager: shutdown requested; stopping the personas");
    for (const auto& [name, state] : personas_) {
        try {
            const auto info = libvirt_->find(name);
            if (info && info->state == DomainState::Running) {
                libvirt_->shutdown(name); // the guest powers off cleanly (file systems, LUKS volume)
                audit("persona.shutdown", name, {{"reason", "device shutdown"}});
            }
        } catch (const LibvirtError& e) {
            spdlog::error("persona {}: cannot ask it to shut down: {}", name, e.what());
        }
    }
    await_personas_off(RestartBudget::Clock::now() + options_.shutdown_timeout, std::move(done));
}

void Manager::await_personas_off(RestartBudget::Clock::time_point deadline, std::function<void(control::Reply)> done) {
    std::vector<std::string> still_up;
    for (const auto& [name, state] : personas_) {
        try {
            const auto info = libvirt_->find(name);
            if (info && info->state != DomainState::ShutOff) {
                still_up.push_back(name);
            }
        } catch (const LibvirtError& e) {
            spdlog::error("persona {}: cannot read state: {}", name, e.what());
        }
    }
    if (!still_up.empty() && RestartBudget::Clock::now() < deadline) {
        shutdown_timer_.expires_after(std::chrono::milliseconds(250));
        shutdown_timer_.async_wait([this, deadline, done = std::move(done)](const boost::system::error_code& ec) mutable {
            if (!ec) {
                await_personas_off(deadline, std::move(done));
            }
        });
        return;
    }
    for (const auto& name : still_up) {
        // It ignored the request: the power goes anyway, so stop it now rather than mid-write.
        try {
            if (libvirt_->find(name)) {
                libvirt_->destroy(name);
            }
            audit("persona.destroyed", name, {{"reason", "no clean shutdown within " + std::to_string(options_.shutdown_timeout.count()) + " s"}});
        } catch (const LibvirtError& e) {
            spdlog::error("persona {}: cannot destroy: {}", name, e.what());
        }
    }
    finish_shutdown(std::move(done));
}

void Manager::finish_shutdown(std::function<void(control::Reply)> done) {
    backends_->stop_all(options_.backend_stop_grace);
    bool sealed = true;
    if (audit_) {
        audit("manager.stop", std::nullopt,
              {{"foreground", foreground()}, {"reason", "shutdown"}, {"poweroff", options_.poweroff_command}});
        if (const auto status = audit_->seal(); !status.ok()) {
            sealed = false;
            spdlog::critical("audit: cannot seal on shutdown: {}", status.message());
        }
    }
    sealed_ = true;
    spdlog::warn("twofold-manager: personas stopped, audit log sealed");
    done(ok_reply({{"personas", "shut-off"},
                   {"audit_sealed", sealed},
                   {"poweroff", options_.poweroff_command.empty() ? json(nullptr) : json(options_.poweroff_command)}}));
    // Give the reply time to leave before the power goes (or the manager exits).
    shutdown_timer_.expires_after(std::chrono::milliseconds(200));
    shutdown_timer_.async_wait([this](const boost::system::error_code& ec) {
        if (ec) {
            return;
        }
        if (!options_.poweroff_command.empty()) {
            spdlog::warn("twofold-manager: running power-off command: {}", options_.poweroff_command);
            const int status = run_and_wait({"/bin/sh", "-c", options_.poweroff_command}, 30000);
            if (status != 0) {
                spdlog::critical("power-off command failed (wait status {})", status);
            }
        }
        io_.stop();
    });
}

void Manager::holders_registered(const std::string& backend, const std::vector<FocusHolder>& holders) {
    std::vector<Command> commands;
    for (const auto h : holders) {
        spdlog::info("focus holder {} served by backend {}", to_string(h), backend);
        foreground_->register_holder(h, commands);
    }
    run_commands(commands);
    if (std::find(holders.begin(), holders.end(), FocusHolder::Display) != holders.end()) {
        for (const auto& persona : notice_marks_) send_notice(persona, true); // a new display starts blank
    }
}

void Manager::persona_notice(const std::string& persona) {
    // In front (or behind its own PIN prompt, which it is about to reach): nothing to mark.
    if (persona == foreground_->place() || (foreground_->at_prompt() && prompt_.persona() == persona)) return;
    if (!notice_marks_.insert(persona).second) return; // already marked: one mark, however many notices
    spdlog::info("persona {}: notice; marked on the strip", persona);
    audit("notice.mark", persona, json::object());
    send_notice(persona, true);
}

void Manager::send_notice(const std::string& persona, bool mark) {
    backends_->send_notice(FocusHolder::Display, focus::Notice{persona, mark});
}

void Manager::holders_lost(const std::string& backend, const std::vector<FocusHolder>& holders) {
    std::vector<Command> commands;
    for (const auto h : holders) {
        spdlog::warn("focus holder {} lost with backend {}", to_string(h), backend);
        foreground_->unregister_holder(h, commands);
    }
    run_commands(commands);
}

void Manager::focus_acknowledged(FocusHolder holder, std::uint64_t epoch) {
    std::vector<Command> commands;
    foreground_->acknowledge(holder, epoch, commands);
    run_commands(commands);
}

void Manager::focus_refused(FocusHolder holder, std::uint64_t epoch, const std::string& reason) {
    std::vector<Command> commands;
    foreground_->refuse(holder, epoch, reason, commands);
    run_commands(commands);
}

void Manager::backend_audit(const std::string& kind, const std::optional<std::string>& persona, json fields) {
    audit(kind, persona, std::move(fields));
}

void Manager::persist_foreground() {
    std::error_code ec;
    std::filesystem::create_directories(options_.state_dir, ec);
    const auto file = options_.state_dir / kForegroundFile;
    const auto tmp = options_.state_dir / (std::string(kForegroundFile) + ".tmp");
    {
        std::ofstream out(tmp, std::ios::trunc);
        out << foreground() << '\n';
    }
    std::filesystem::rename(tmp, file, ec);
    if (ec) {
        spdlog::error("cannot persist foreground to {}: {}", file.string(), ec.message());
    }
    if (xenstore_) {
        try {
            xenstore_->write(kForegroundNode, foreground());
        } catch (const std::exception& e) {
            spdlog::warn("cannot write {}: {}", kForegroundNode, e.what());
        }
    }
}

std::optional<std::string> Manager::recovered_foreground() const {
    std::ifstream in(options_.state_dir / kForegroundFile);
    std::string name;
    if (!(in >> name) || personas_.find(name) == personas_.end()) {
        return std::nullopt;
    }
    spdlog::info("recovered foreground '{}' from {}", name, options_.state_dir.string());
    return name;
}

} // namespace twofold::manager
