#include "twofold/manager/backend_supervisor.h"

#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <algorithm>
#include <cerrno>
#include <map>
#include <stdexcept>
#include <utility>
#include <system_error>
#include <thread>

#include <boost/asio/write.hpp>
#include <spdlog/spdlog.h>

#include "twofold/manager/child_process.h"
#include "twofold/manager/xenstore_proxy.h"

namespace twofold::manager {

namespace asio = boost::asio;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

FocusHolder to_focus_holder(focus::Holder h) {
    switch (h) {
    case focus::Holder::Display: return FocusHolder::Display;
    case focus::Holder::Input: return FocusHolder::Input;
    case focus::Holder::ModemAudio: return FocusHolder::ModemAudio;
    }
    return FocusHolder::Display;
}

std::string describe_exit(int status) {
    if (WIFEXITED(status)) {
        return "exited with status " + std::to_string(WEXITSTATUS(status));
    }
    if (WIFSIGNALED(status)) {
        const char* name = ::sigabbrev_np(WTERMSIG(status));
        return "killed by signal " + std::to_string(WTERMSIG(status)) + (name ? std::string(" (SIG") + name + ")" : "");
    }
    return "ended (status " + std::to_string(status) + ")";
}

xenbus::DeviceType device_type(const std::string& name) {
    if (name == "vfb") return xenbus::DeviceType::Vfb;
    if (name == "vkbd") return xenbus::DeviceType::Vkbd;
    return xenbus::DeviceType::Console; // backends_config admits these three only
}

json holder_names(const std::vector<FocusHolder>& holders) {
    json out = json::array();
    for (const auto h : holders) {
        out.push_back(to_string(h));
    }
    return out;
}

} // namespace

const char* to_string(BackendState state) noexcept {
    switch (state) {
    case BackendState::Stopped: return "stopped";
    case BackendState::Starting: return "starting";
    case BackendState::Running: return "running";
    case BackendState::Restarting: return "restarting";
    case BackendState::Failed: return "failed";
    }
    return "unknown";
}

struct BackendSupervisor::Backend {
    Backend(asio::io_context& io, BackendConfig c, std::optional<SupervisedPersona> p = std::nullopt)
        : config(std::move(c)), persona(std::move(p)), label(persona ? config.name + "/" + persona->name : config.name),
          budget(config.restart.max_attempts, std::chrono::seconds(config.restart.window_seconds), config.restart.first_delay,
                 config.restart.max_delay),
          hello_timer(io), restart_timer(io) {}

    BackendConfig config;
    // Set for an instance of a per_persona backend: the one persona it serves.
    std::optional<SupervisedPersona> persona;
    std::string label; // how logs, audit records and status() name it
    RestartBudget budget;
    BackendState state = BackendState::Stopped;
    pid_t pid = -1; // set while the process exists (until reaped)
    // Bumped at every spawn and exit: a handler of an earlier incarnation does nothing.
    std::uint64_t generation = 0;
    std::unique_ptr<asio::local::stream_protocol::socket> link;
    std::unique_ptr<focus::LineSplitter> splitter;
    std::array<char, 4096> buffer{};
    asio::steady_timer hello_timer;
    asio::steady_timer restart_timer;
    std::vector<FocusHolder> holds;
    std::uint32_t restarts = 0;
    std::deque<std::string> outbox;
    bool writing = false;
    std::optional<std::uint64_t> last_focus_epoch;
    std::uint32_t protocol_errors = 0;
    bool doomed = false; // killed, not yet reaped: nothing it says counts any more
    std::string kill_reason;
    struct AuditWindow {
        Clock::time_point start{};
        std::uint32_t accepted = 0;
        std::uint32_t dropped = 0;
    };
    std::map<std::string, AuditWindow> audit_windows; // persona ("" for none) -> this second
    std::unique_ptr<XenStoreProxy> proxy; // its xenstore, while it runs (config.xenstore)
    // An instance: the domain of its persona it serves (it starts once this is known), its end
    // of the link with the peer (fd 5 at every spawn), and whether it was killed for a new
    // domain (then it starts again at once, outside its budget).
    std::optional<xen::DomId> domid;
    xen::UniqueFd peer_end;
    bool replace = false;
    // A peer: each persona's end of the link with that persona's instance (fds 5, 6, ...).
    std::vector<std::pair<std::string, xen::UniqueFd>> peer_links;

    // The persona an audit record about this process is for: an instance's, else none.
    [[nodiscard]] std::optional<std::string> audit_persona() const {
        return persona ? std::optional<std::string>(persona->name) : std::nullopt;
    }
};

namespace {

// A link between one persona's instance and the peer. SEQPACKET: the two speak in messages
// (an input event, a batch), and neither has to find message boundaries in a stream.
std::pair<xen::UniqueFd, xen::UniqueFd> peer_pair() {
    int fds[2] = {-1, -1};
    if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) != 0) {
        throw std::system_error(errno, std::generic_category(), "socketpair for a peer link");
    }
    return {xen::UniqueFd(fds[0]), xen::UniqueFd(fds[1])};
}

} // namespace

BackendSupervisor::BackendSupervisor(asio::io_context& io, std::vector<BackendConfig> backends,
                                     std::vector<SupervisedPersona> personas, BackendEvents& events,
                                     XenStoreOpener open_xenstore)
    : io_(io), events_(events), open_xenstore_(std::move(open_xenstore)), sigchld_(io, SIGCHLD) {
    for (const auto& p : personas) {
        // The name travels in argv and in the focus protocol's persona fields.
        if (!focus::is_valid_name(p.name) || (p.kind != "secure" && p.kind != "personal")) {
            throw std::invalid_argument("persona '" + p.name + "' (" + p.kind + ") cannot be told to a backend");
        }
    }
    const auto find = [&backends](const std::string& name) {
        return std::find_if(backends.begin(), backends.end(), [&](const BackendConfig& c) { return c.name == name; });
    };
    for (const auto& config : backends) {
        if (!config.peer) continue;
        const auto peer = find(*config.peer);
        if (!config.per_persona || peer == backends.end() || peer->per_persona) {
            throw std::invalid_argument("backend '" + config.name + "': peer '" + *config.peer +
                                        "' is not a backend serving every persona");
        }
    }
    std::map<std::string, std::shared_ptr<Backend>> shared; // the ones serving every persona
    for (auto& config : backends) {
        if (!config.per_persona) {
            auto b = std::make_shared<Backend>(io, std::move(config));
            shared.emplace(b->config.name, b);
            backends_.push_back(std::move(b));
        }
    }
    for (auto& config : backends) {
        if (!config.per_persona) continue; // taken by the loop above
        for (const auto& p : personas) {
            BackendConfig instance = config;
            // Each instance its own uid: one taken over cannot signal or ptrace the other.
            instance.user = (config.user.empty() ? "twofold-" + config.name : config.user) + "-" + p.name;
            auto b = std::make_shared<Backend>(io, std::move(instance), p);
            if (config.peer) {
                auto [ours, theirs] = peer_pair();
                b->peer_end = std::move(ours);
                shared.at(*config.peer)->peer_links.emplace_back(p.name, std::move(theirs));
            }
            backends_.push_back(std::move(b));
        }
    }
    wait_for_children();
}

BackendSupervisor::~BackendSupervisor() {
    stopping_ = true;
    for (auto& b : backends_) {
        b->link.reset();
        b->proxy.reset();
        if (b->pid > 0) {
            ::kill(b->pid, SIGKILL);
            int status = 0;
            ::waitpid(b->pid, &status, 0);
            b->pid = -1;
        }
    }
}

void BackendSupervisor::wait_for_children() {
    sigchld_.async_wait([this, alive = std::weak_ptr<int>(alive_)](const boost::system::error_code& ec, int) {
        if (ec || alive.expired()) {
            return;
        }
        reap();
        wait_for_children();
    });
}

void BackendSupervisor::reap() {
    // Only our own children: waitpid(-1) would steal the status of a process someone else
    // in this program waits for.
    for (const auto& b : std::vector<std::shared_ptr<Backend>>(backends_)) {
        int status = 0;
        if (b->pid > 0 && ::waitpid(b->pid, &status, WNOHANG) == b->pid) {
            on_exit(b, status);
        }
    }
}

void BackendSupervisor::start(bool after_personas) {
    for (const auto& b : backends_) {
        if (!b->persona && b->config.after_personas == after_personas && b->state == BackendState::Stopped && !stopping_) {
            spawn(b);
        }
    }
}

void BackendSupervisor::spawn(const std::shared_ptr<Backend>& b) {
    std::vector<std::string> argv = b->config.command;
    argv.insert(argv.end(), {"--focus-fd", std::to_string(kFocusFd), "--user", b->config.user});
    std::vector<ExtraFd> extra;
    // The manager's xenstored connection for this backend's proxy, opened before the backend
    // exists: a backend that would have no xenstore is not started.
    const bool proxied = b->config.xenstore.has_value() && static_cast<bool>(open_xenstore_);
    std::unique_ptr<xen::XenStore> store;
    SpawnedBackend child;
    try {
        if (proxied) {
            store = open_xenstore_();
            argv.insert(argv.end(), {"--xenstore-fd", std::to_string(kXenStoreFd)});
        }
        if (b->persona) {
            // The one persona it serves: its Xen handles are restricted to this domain.
            argv.insert(argv.end(), {"--persona", b->persona->name + ":" + b->persona->kind, "--domid", std::to_string(*b->domid)});
            if (b->peer_end.valid()) {
                argv.insert(argv.end(), {"--peer-fd", std::to_string(kFirstExtraFd)});
                extra.push_back({b->peer_end.get(), kFirstExtraFd});
            }
        }
        for (const auto& [persona, fd] : b->peer_links) {
            const int as = kFirstExtraFd + static_cast<int>(extra.size());
            argv.insert(argv.end(), {"--peer-fd", persona + "=" + std::to_string(as)});
            extra.push_back({fd.get(), as});
        }
        child = spawn_with_focus_link(argv, proxied, extra);
    } catch (const std::exception& e) {
        spdlog::error("backend {}: {}", b->label, e.what());
        events_.backend_audit("backend.start-failed", b->audit_persona(), {{"backend", b->label}, {"error", e.what()}});
        schedule_restart(b);
        return;
    }
    const auto gen = ++b->generation;
    b->pid = child.pid;
    b->state = BackendState::Starting;
    b->doomed = false;
    b->kill_reason.clear();
    b->protocol_errors = 0;
    b->holds.clear();
    b->outbox.clear();
    b->writing = false;
    b->last_focus_epoch.reset();
    b->link = std::make_unique<asio::local::stream_protocol::socket>(
        xen::hand_over<asio::local::stream_protocol::socket>(child.link, io_, asio::local::stream_protocol()));
    Backend& raw = *b;
    b->splitter = std::make_unique<focus::LineSplitter>(
        focus::kMaxLineBytes, [this, &raw](std::string_view line) { on_line(raw, line); },
        [this, &raw](std::size_t dropped) {
            protocol_error(raw, "line longer than " + std::to_string(focus::kMaxLineBytes) + " bytes (" +
                                    std::to_string(dropped) + " bytes dropped)");
        });
    if (proxied) start_proxy(b, std::move(child.xenstore), std::move(store));
    spdlog::info("backend {}: started pid {}", b->label, b->pid);
    json started{{"backend", b->label}, {"pid", b->pid}, {"attempt", b->restarts}};
    if (b->domid) started["domid"] = *b->domid;
    events_.backend_audit("backend.start", b->audit_persona(), std::move(started));

    b->hello_timer.expires_after(b->config.hello_timeout);
    b->hello_timer.async_wait([this, weak = std::weak_ptr<Backend>(b), gen](const boost::system::error_code& ec) {
        const auto self = weak.lock();
        if (ec || !self || self->generation != gen || self->state != BackendState::Starting) {
            return;
        }
        kill_backend(*self, "no hello within " + std::to_string(self->config.hello_timeout.count()) + " ms");
    });
    read_more(b);
}

void BackendSupervisor::start_proxy(const std::shared_ptr<Backend>& b, xen::UniqueFd socket,
                                    std::unique_ptr<xen::XenStore> store) {
    const auto gen = b->generation;
    const std::weak_ptr<Backend> weak = b;
    const std::string name = b->label;
    const auto persona = b->audit_persona();
    b->proxy = std::make_unique<XenStoreProxy>(
        io_, std::move(socket), std::move(store), device_type(*b->config.xenstore),
        [this, name, persona](const std::string& kind, json fields) {
            fields["backend"] = name; // the manager's word on whose request it was
            events_.backend_audit(kind, persona, std::move(fields));
        },
        [this, weak, gen](const std::string& why) {
            const auto self = weak.lock();
            if (!self || self->generation != gen) return;
            kill_backend(*self, "xenstore proxy: " + why);
        });
    b->proxy->set_frontends(frontends_of(*b));
    b->proxy->start();
}

std::set<xen::DomId> BackendSupervisor::frontends_of(const Backend& b) const {
    // An instance never reaches the other persona's domain, whatever it asks.
    if (b.persona) return {*b.domid};
    return persona_domids();
}

std::set<xen::DomId> BackendSupervisor::persona_domids() const {
    std::set<xen::DomId> domids;
    for (const auto& [persona, domid] : persona_domains_) domids.insert(domid);
    return domids;
}

void BackendSupervisor::persona_domain(const std::string& persona, xen::DomId domid) {
    persona_domains_[persona] = domid;
    const auto domids = persona_domids();
    for (const auto& b : std::vector<std::shared_ptr<Backend>>(backends_)) {
        if (!b->persona) {
            if (b->proxy) b->proxy->set_frontends(domids);
        } else if (b->persona->name == persona) {
            instance_domain(b, domid);
        }
    }
}

void BackendSupervisor::instance_domain(const std::shared_ptr<Backend>& b, xen::DomId domid) {
    if (stopping_ || b->domid == domid) {
        return; // the same domain found again (a reconcile): the instance already serves it
    }
    const auto before = b->domid;
    b->domid = domid;
    switch (b->state) {
    case BackendState::Stopped:
        spawn(b);
        return;
    case BackendState::Restarting:
        // Its next attempt is for the new domain, and needs no wait: nothing of it failed.
        b->restart_timer.cancel();
        b->state = BackendState::Stopped;
        spawn(b);
        return;
    case BackendState::Failed:
        return; // its budget is spent: a new domain does not buy it another
    case BackendState::Starting:
    case BackendState::Running:
        break;
    }
    events_.backend_audit("backend.domain-changed", b->audit_persona(),
                          {{"backend", b->label}, {"pid", b->pid}, {"domid", domid}, {"was", before ? json(*before) : json(nullptr)}});
    if (b->doomed) {
        return; // killed already for what it did: restarted within its budget, for the new domain
    }
    // Its proxy closes now: the old process reaches no domain while it is being killed.
    b->proxy.reset();
    kill_backend(*b, "its persona's domain changed (domid " + std::to_string(domid) + ")");
    b->replace = true;
}

void BackendSupervisor::read_more(const std::shared_ptr<Backend>& b) {
    const auto gen = b->generation;
    b->link->async_read_some(asio::buffer(b->buffer), [this, weak = std::weak_ptr<Backend>(b), gen](
                                                          const boost::system::error_code& ec, std::size_t n) {
        const auto self = weak.lock();
        if (!self || self->generation != gen || ec == asio::error::operation_aborted) {
            return;
        }
        if (ec) {
            // EOF: the backend closed its end or died. A live one that closed it is broken.
            if (!self->doomed) {
                kill_backend(*self, "closed its focus link (" + ec.message() + ")");
            }
            return;
        }
        self->splitter->feed(std::string_view(self->buffer.data(), n));
        if (!self->doomed && self->generation == gen) {
            read_more(self);
        }
    });
}

void BackendSupervisor::on_line(Backend& b, std::string_view line) {
    if (b.doomed) {
        return;
    }
    auto parsed = focus::parse_to_manager(line);
    if (const auto* error = std::get_if<focus::ParseError>(&parsed)) {
        protocol_error(b, error->message);
        if (b.state == BackendState::Starting) {
            kill_backend(b, "first message is not a valid hello: " + error->message);
        }
        return;
    }
    auto& message = std::get<focus::ToManager>(parsed);
    if (const auto* hello = std::get_if<focus::Hello>(&message)) {
        if (b.state != BackendState::Starting) {
            protocol_error(b, "second hello");
            kill_backend(b, "said hello twice");
            return;
        }
        on_hello(b, *hello);
        return;
    }
    if (b.state != BackendState::Running) {
        protocol_error(b, "message before hello");
        kill_backend(b, "did not start with a hello");
        return;
    }
    if (const auto* event = std::get_if<focus::AuditEvent>(&message)) {
        on_audit(b, *event);
        return;
    }
    if (const auto* key = std::get_if<focus::PromptKeyPress>(&message)) {
        // Only the input holder types into the prompt; neither error names the key.
        if (std::find(b.holds.begin(), b.holds.end(), FocusHolder::Input) == b.holds.end()) {
            protocol_error(b, "prompt key from a backend that does not hold input");
        } else if (!events_.prompt_key(key->key)) {
            protocol_error(b, "prompt key while no PIN prompt has input");
        }
        return;
    }
    // An ack or refusal. A late one (older epoch) is normal after a timeout; one for an order
    // never sent would let a backend pre-acknowledge a switch it never saw.
    const auto epoch = std::holds_alternative<focus::Ack>(message) ? std::get<focus::Ack>(message).epoch
                                                                    : std::get<focus::Refuse>(message).epoch;
    if (!b.last_focus_epoch || epoch > *b.last_focus_epoch) {
        protocol_error(b, "answer for focus epoch " + std::to_string(epoch) + " that was never sent");
        return;
    }
    const auto holds = b.holds; // the handlers below may run commands that touch this backend
    for (const auto h : holds) {
        if (const auto* refuse = std::get_if<focus::Refuse>(&message)) {
            events_.focus_refused(h, epoch, refuse->reason);
        } else {
            events_.focus_acknowledged(h, epoch);
        }
    }
}

void BackendSupervisor::on_hello(Backend& b, const focus::Hello& hello) {
    // An instance says the entry's name ("input", not "input/personal"): the name is the
    // backend's, the persona the manager's.
    if (hello.backend != b.config.name) {
        events_.backend_audit("backend.hello-rejected", b.audit_persona(),
                              {{"backend", b.label}, {"announced", hello.backend}, {"reason", "wrong backend name"}});
        kill_backend(b, "announced itself as '" + hello.backend + "'");
        return;
    }
    // A focus holder serves whichever persona is in front: a process serving one persona
    // cannot hold one.
    if (b.persona && !hello.holds.empty()) {
        events_.backend_audit("backend.hello-rejected", b.audit_persona(),
                              {{"backend", b.label}, {"reason", "a per-persona instance holds no focus holder"}});
        protocol_error(b, "hello of a per-persona instance claims focus holders");
        kill_backend(b, "a per-persona instance claimed focus holders");
        return;
    }
    std::vector<FocusHolder> holds;
    for (const auto h : hello.holds) {
        const FocusHolder holder = to_focus_holder(h);
        for (const auto& other : backends_) {
            const bool taken = other.get() != &b && other->state == BackendState::Running && !other->doomed &&
                               std::find(other->holds.begin(), other->holds.end(), holder) != other->holds.end();
            if (taken) {
                events_.backend_audit("backend.hello-rejected", std::nullopt,
                                      {{"backend", b.label}, {"holder", to_string(holder)}, {"held_by", other->label},
                                       {"reason", "holder already held"}});
                kill_backend(b, std::string("claims ") + to_string(holder) + ", held by " + other->label);
                return;
            }
        }
        holds.push_back(holder);
    }
    b.state = BackendState::Running;
    b.holds = holds;
    b.hello_timer.cancel();
    spdlog::info("backend {}: ready (pid {}, {} holder(s))", b.label, b.pid, holds.size());
    events_.backend_audit("backend.ready", b.audit_persona(), {{"backend", b.label}, {"pid", b.pid}, {"holds", holder_names(holds)}});
    if (!holds.empty()) {
        events_.holders_registered(b.label, holds);
    }
}

void BackendSupervisor::on_audit(Backend& b, const focus::AuditEvent& event) {
    const std::string prefix = b.config.name + ".";
    if (event.event.rfind(prefix, 0) != 0) {
        protocol_error(b, "audit event '" + event.event + "' is outside its namespace '" + prefix + "*'");
        return;
    }
    std::optional<std::string> persona;
    const auto named = event.fields.find("persona");
    if (named != event.fields.end() && named->is_string() && focus::is_valid_name(named->get<std::string>())) {
        persona = named->get<std::string>();
    }
    if (b.persona) {
        // An instance speaks for its own persona only: a record it files under the other one
        // (or under a name that is no persona) would be a false entry in that persona's log.
        if (named != event.fields.end() && persona != b.persona->name) {
            protocol_error(b, "audit event '" + event.event + "' names another persona than its own");
            return;
        }
        persona = b.persona->name;
    }
    const auto now = Clock::now();
    report_audit_drops(b, false); // the windows that ended, whichever persona this event is for
    std::string key = persona.value_or("");
    if (b.audit_windows.count(key) == 0 && b.audit_windows.size() >= kMaxBackendAuditPersonas) key = "*";
    auto& window = b.audit_windows.try_emplace(key, Backend::AuditWindow{now, 0, 0}).first->second;
    if (++window.accepted > kMaxBackendAuditPerSecond) {
        ++window.dropped;
        return;
    }
    json fields = event.fields;
    fields["backend"] = b.label; // the manager's word on who said it, not the backend's
    events_.backend_audit(event.event, persona, std::move(fields));
}

void BackendSupervisor::report_audit_drops() {
    for (const auto& b : backends_) {
        report_audit_drops(*b, false);
        if (b->proxy) b->proxy->report_denials();
    }
}

void BackendSupervisor::report_audit_drops(Backend& b, bool all) {
    const auto now = Clock::now();
    for (auto it = b.audit_windows.begin(); it != b.audit_windows.end();) {
        auto& [who, window] = *it;
        if (!all && now - window.start < std::chrono::seconds(1)) {
            ++it;
            continue;
        }
        if (window.dropped > 0) {
            json fields{{"backend", b.label}, {"dropped", window.dropped}};
            if (who == "*") fields["personas"] = "beyond the first " + std::to_string(kMaxBackendAuditPersonas);
            events_.backend_audit("backend.audit-dropped",
                                  who.empty() || who == "*" ? std::nullopt : std::optional<std::string>(who), std::move(fields));
        }
        it = b.audit_windows.erase(it); // the next event opens a new window
    }
}

void BackendSupervisor::protocol_error(Backend& b, const std::string& what) {
    if (b.doomed) {
        return;
    }
    ++b.protocol_errors;
    spdlog::warn("backend {}: protocol error: {}", b.label, what);
    events_.backend_audit("backend.protocol-error", b.audit_persona(), {{"backend", b.label}, {"error", what.substr(0, 256)}});
    if (b.protocol_errors >= kMaxBackendProtocolErrors) {
        kill_backend(b, "too many protocol errors");
    }
}

void BackendSupervisor::kill_backend(Backend& b, const std::string& reason) {
    if (b.doomed || b.pid <= 0) {
        return;
    }
    b.doomed = true;
    b.kill_reason = reason;
    spdlog::error("backend {}: killing pid {}: {}", b.label, b.pid, reason);
    events_.backend_audit("backend.killed", b.audit_persona(), {{"backend", b.label}, {"pid", b.pid}, {"reason", reason}});
    // Not reaped yet, so the pid cannot have been reused. on_exit() runs from SIGCHLD.
    ::kill(b.pid, SIGKILL);
}

std::shared_ptr<BackendSupervisor::Backend> BackendSupervisor::holder_backend(FocusHolder holder) const {
    for (const auto& b : backends_) {
        if (b->state == BackendState::Running && !b->doomed &&
            std::find(b->holds.begin(), b->holds.end(), holder) != b->holds.end()) {
            return b;
        }
    }
    return nullptr;
}

void BackendSupervisor::send_focus(FocusHolder holder, const std::optional<std::string>& persona, std::uint64_t epoch,
                                   const std::optional<focus::PromptView>& prompt) {
    const auto b = holder_backend(holder);
    if (!b) {
        spdlog::warn("focus {} -> {} (epoch {}): no running backend holds it", to_string(holder), persona.value_or("nobody"), epoch);
        return;
    }
    if (b->last_focus_epoch == epoch) {
        return; // this backend holds several holders: one order, one ack
    }
    if (queue_line(b, focus::ToBackend{focus::Focus{persona, epoch, prompt}})) b->last_focus_epoch = epoch;
}

void BackendSupervisor::send_prompt_update(FocusHolder holder, const focus::PromptUpdate& update) {
    // The display died: the prompt is redrawn whole when it returns.
    if (const auto b = holder_backend(holder)) queue_line(b, focus::ToBackend{update});
}

void BackendSupervisor::send_notice(FocusHolder holder, const focus::Notice& notice) {
    // The display died: the manager sends its marks again at the next hello.
    if (const auto b = holder_backend(holder)) queue_line(b, focus::ToBackend{notice});
}

bool BackendSupervisor::queue_line(const std::shared_ptr<Backend>& b, const focus::ToBackend& message) {
    if (b->outbox.size() >= kMaxBackendOutbox) {
        kill_backend(*b, "does not read its focus orders");
        return false;
    }
    b->outbox.push_back(focus::format(message) + "\n");
    write_next(b);
    return true;
}

void BackendSupervisor::write_next(const std::shared_ptr<Backend>& b) {
    if (b->writing || b->outbox.empty() || !b->link) {
        return;
    }
    b->writing = true;
    const auto gen = b->generation;
    asio::async_write(*b->link, asio::buffer(b->outbox.front()),
                      [this, weak = std::weak_ptr<Backend>(b), gen](const boost::system::error_code& ec, std::size_t) {
                          const auto self = weak.lock();
                          if (!self || self->generation != gen || ec == asio::error::operation_aborted) {
                              return;
                          }
                          self->writing = false;
                          if (ec) {
                              kill_backend(*self, "focus link write failed (" + ec.message() + ")");
                              return;
                          }
                          self->outbox.pop_front();
                          write_next(self);
                      });
}

void BackendSupervisor::on_exit(const std::shared_ptr<Backend>& b, int status) {
    const pid_t pid = b->pid;
    b->pid = -1;
    ++b->generation;
    b->link.reset();
    b->proxy.reset();
    b->hello_timer.cancel();
    b->outbox.clear();
    b->writing = false;
    auto lost = std::move(b->holds);
    b->holds.clear();
    const std::string how = describe_exit(status);
    spdlog::warn("backend {}: pid {} {}", b->label, pid, how);
    json fields{{"backend", b->label}, {"pid", pid}, {"how", how}};
    if (!b->kill_reason.empty()) {
        fields["killed_because"] = b->kill_reason;
    }
    report_audit_drops(*b, true); // before its exit: nothing it sent goes uncounted
    events_.backend_audit("backend.exit", b->audit_persona(), std::move(fields));
    b->doomed = false;
    const bool replace = std::exchange(b->replace, false);
    if (stopping_) {
        b->state = BackendState::Stopped;
    } else if (replace) {
        b->state = BackendState::Stopped;
        spawn(b); // for its persona's new domain: not a failure, so not from its budget
    } else {
        schedule_restart(b);
    }
    if (!lost.empty()) {
        // After the state change: commands the foreground machine issues now skip this backend.
        events_.holders_lost(b->label, lost);
    }
}

void BackendSupervisor::schedule_restart(const std::shared_ptr<Backend>& b) {
    if (stopping_) {
        b->state = BackendState::Stopped;
        return;
    }
    const auto now = Clock::now();
    const auto next = b->budget.next_attempt(now);
    if (!next) {
        b->state = BackendState::Failed;
        spdlog::error("backend {}: restart budget exhausted; not restarting", b->label);
        events_.backend_audit("backend.restart-abandoned", b->audit_persona(),
                              {{"backend", b->label}, {"attempts", b->budget.attempts_in_window(now)}});
        return;
    }
    b->state = BackendState::Restarting;
    b->restart_timer.expires_at(*next);
    b->restart_timer.async_wait([this, weak = std::weak_ptr<Backend>(b)](const boost::system::error_code& ec) {
        const auto self = weak.lock();
        if (ec || !self || stopping_ || self->state != BackendState::Restarting) {
            return;
        }
        self->budget.record_attempt(Clock::now());
        ++self->restarts;
        events_.backend_audit("backend.restart", self->audit_persona(), {{"backend", self->label}, {"attempt", self->restarts}});
        spawn(self);
    });
}

void BackendSupervisor::stop_all(std::chrono::milliseconds grace) {
    stopping_ = true;
    std::vector<std::shared_ptr<Backend>> live;
    for (const auto& b : backends_) {
        b->restart_timer.cancel();
        b->hello_timer.cancel();
        ++b->generation;
        b->link.reset(); // EOF on the focus link: a backend exits on its own
        b->proxy.reset();
        if (b->pid > 0) {
            ::kill(b->pid, SIGTERM);
            live.push_back(b);
        } else if (b->state != BackendState::Failed) {
            b->state = BackendState::Stopped;
        }
    }
    // Synchronous on purpose: this runs while the manager goes down, and nothing else may
    // happen until every backend is gone.
    const auto deadline = Clock::now() + grace;
    while (!live.empty()) {
        for (auto it = live.begin(); it != live.end();) {
            int status = 0;
            const bool late = Clock::now() >= deadline;
            if (late) {
                ::kill((*it)->pid, SIGKILL);
            }
            if (::waitpid((*it)->pid, &status, late ? 0 : WNOHANG) == (*it)->pid) {
                on_exit(*it, status);
                it = live.erase(it);
            } else {
                ++it;
            }
        }
        if (!live.empty()) {
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
    }
}

json BackendSupervisor::status() const {
    json out = json::array();
    for (const auto& b : backends_) {
        json entry{{"name", b->label},
                   {"pid", b->pid > 0 ? json(b->pid) : json(nullptr)},
                   {"state", to_string(b->state)},
                   {"restarts", b->restarts},
                   {"holds", holder_names(b->holds)}};
        if (b->persona) {
            entry["persona"] = b->persona->name;
            entry["domid"] = b->domid ? json(*b->domid) : json(nullptr);
        }
        if (b->proxy) {
            const auto& stats = b->proxy->stats();
            entry["xenstore"] = {{"requests", stats.requests}, {"denied", stats.denied}, {"events", stats.events}};
        }
        out.push_back(std::move(entry));
    }
    return out;
}

bool BackendSupervisor::configured(const std::string& backend) const {
    for (const auto& b : backends_) {
        if (b->config.name == backend) return true;
    }
    return false;
}

std::optional<pid_t> BackendSupervisor::pid_of(const std::string& backend) const {
    for (const auto& b : backends_) {
        if (b->label == backend && b->pid > 0) {
            return b->pid;
        }
    }
    return std::nullopt;
}

} // namespace twofold::manager
