#pragma once
// Starts, watches and restarts the backend processes of backends.toml, and speaks the focus
// link (vmm/focus) with each: it reads the backend's hello, forwards focus orders to the
// backend that holds a holder, and turns acks, refusals and audit events into calls on
// BackendEvents. Single-threaded: everything runs on the manager's io_context.
//
// A backend is hostile-ish: a dom0 process that may be buggy or compromised. Everything it
// writes is parsed by twofold_focus before use; a wrong or duplicate hello, too many protocol
// errors, a full outbox (it stopped reading) or silence past the hello timeout gets it killed
// and restarted within its budget. It may only add audit records under its own name.
#include <sys/types.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <set>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <nlohmann/json.hpp>

#include "twofold/focus/focus_protocol.h"
#include "twofold/focus/line_splitter.h"
#include "twofold/manager/backends_config.h"
#include "twofold/manager/foreground.h"
#include "twofold/manager/restart_budget.h"
#include "twofold/xen/types.h"
#include "twofold/xen/unique_fd.h"
#include "twofold/xen/xenstore.h"

namespace twofold::manager {

// After this many malformed or forbidden messages a backend is killed: each one costs an
// audit record, and a backend must not be able to flood the log.
inline constexpr std::uint32_t kMaxBackendProtocolErrors = 8;
// Audit events accepted per backend, per persona named in them (or none), per second; the rest
// are dropped and counted in one `backend.audit-dropped` record per persona. Per persona, so
// that one persona driving a backend's events (a guest flood the backend did not bound) does
// not spend the budget of the other persona's events. The backends bound their events per
// persona and kind first (focus::AuditLimiter); this is the manager's own line behind it.
inline constexpr std::uint32_t kMaxBackendAuditPerSecond = 50;
// Personas one backend may name in its events before the rest share one budget (the names are
// validated, but a compromised backend could invent many).
inline constexpr std::size_t kMaxBackendAuditPersonas = 8;
// Focus orders queued for a backend that does not read them; past this it is hung: killed.
inline constexpr std::size_t kMaxBackendOutbox = 16;

class BackendEvents {
public:
    virtual ~BackendEvents() = default;
    virtual void holders_registered(const std::string& backend, const std::vector<FocusHolder>& holders) = 0;
    virtual void holders_lost(const std::string& backend, const std::vector<FocusHolder>& holders) = 0;
    virtual void focus_acknowledged(FocusHolder holder, std::uint64_t epoch) = 0;
    virtual void focus_refused(FocusHolder holder, std::uint64_t epoch, const std::string& reason) = 0;
    virtual void backend_audit(const std::string& kind, const std::optional<std::string>& persona, nlohmann::json fields) = 0;
    // A key typed into dom0's PIN prompt, from the backend holding input. False: no prompt can
    // have input now, so the backend broke the protocol (counted as a protocol error, which
    // never names the key).
    virtual bool prompt_key(focus::PromptKey /*key*/) { return false; }
};

// Opens a privileged xenstored connection for one backend's proxy (the manager's platform;
// the loopback in host tests). Empty: no proxy, a backend with `xenstore` opens its own.
using XenStoreOpener = std::function<std::unique_ptr<xen::XenStore>()>;

enum class BackendState : std::uint8_t { Stopped, Starting, Running, Restarting, Failed };
[[nodiscard]] const char* to_string(BackendState state) noexcept;

// A persona of the policy, as a per_persona backend's instance is told it (`--persona
// NAME:KIND`): kind is "secure" or "personal".
struct SupervisedPersona {
    std::string name;
    std::string kind;
};

class BackendSupervisor {
public:
    // A per_persona backend becomes one instance per persona ("<name>/<persona>"), in the order
    // of `personas`; a peer's links are made here and live as long as the supervisor. Throws
    // std::invalid_argument for a peer that is not a backend of the list serving every persona,
    // or a persona name the focus protocol would not carry.
    BackendSupervisor(boost::asio::io_context& io, std::vector<BackendConfig> backends,
                      std::vector<SupervisedPersona> personas, BackendEvents& events, XenStoreOpener open_xenstore = {});
    // Kills what is still running, without reporting (the owner calls stop_all() first to
    // have the stop audited).
    ~BackendSupervisor();
    BackendSupervisor(const BackendSupervisor&) = delete;
    BackendSupervisor& operator=(const BackendSupervisor&) = delete;

    // Starts every backend whose after_personas equals `after_personas` (never an instance of a
    // per_persona backend: persona_domain() starts those).
    void start(bool after_personas);
    // Sends Focus{persona, epoch} to the backend holding `holder` (once per backend and epoch:
    // a backend holding two holders gets one order and its one ack counts for both). No
    // persona: route to nobody (the detach phase of a switch).
    // With a prompt: dom0's PIN prompt for `persona` (display: drawn; input: keys to the manager).
    void send_focus(FocusHolder holder, const std::optional<std::string>& persona, std::uint64_t epoch,
                    const std::optional<focus::PromptView>& prompt = std::nullopt);
    // A redraw of the prompt (its dots, its status line) to the backend holding `holder`; no answer.
    void send_prompt_update(FocusHolder holder, const focus::PromptUpdate& update);
    void send_notice(FocusHolder holder, const focus::Notice& notice);
    // Closes every focus link (a backend exits on EOF), SIGTERMs, waits up to `grace`, then
    // SIGKILLs and reaps. Nothing is restarted afterwards.
    void stop_all(std::chrono::milliseconds grace);
    // Records what each backend's ended audit windows dropped (`backend.audit-dropped` per
    // persona). Runs on the manager's supervision tick, so a flood that stopped is still
    // counted; a backend that exits reports all of its windows.
    void report_audit_drops();

    // A persona's domain exists (started, recreated, or found running): the xenstore proxies
    // admit its paths from now on, in place of its earlier domain's. The persona's instances
    // start with `--domid domid`; a running one given a new domid is killed and started again
    // at once, outside its restart budget (it served a domain that is gone).
    void persona_domain(const std::string& persona, xen::DomId domid);

    [[nodiscard]] nlohmann::json status() const;
    // `backend` is a name of backends.toml, or "<name>/<persona>" for an instance.
    [[nodiscard]] std::optional<pid_t> pid_of(const std::string& backend) const;
    // Whether backends.toml names this backend (started or not; per_persona or not).
    [[nodiscard]] bool configured(const std::string& backend) const;

private:
    struct Backend;

    void spawn(const std::shared_ptr<Backend>& b);
    void read_more(const std::shared_ptr<Backend>& b);
    void on_line(Backend& b, std::string_view line);
    void on_hello(Backend& b, const focus::Hello& hello);
    void on_audit(Backend& b, const focus::AuditEvent& event);
    void report_audit_drops(Backend& b, bool all);
    void protocol_error(Backend& b, const std::string& what);
    void kill_backend(Backend& b, const std::string& reason);
    // Queues one line on the backend's focus link; a backend whose outbox is full is killed
    // instead (false).
    bool queue_line(const std::shared_ptr<Backend>& b, const focus::ToBackend& message);
    void write_next(const std::shared_ptr<Backend>& b);
    // The running backend holding `holder`, if any.
    [[nodiscard]] std::shared_ptr<Backend> holder_backend(FocusHolder holder) const;
    void wait_for_children();
    void reap();
    void on_exit(const std::shared_ptr<Backend>& b, int status);
    void schedule_restart(const std::shared_ptr<Backend>& b);
    // Starts the instance of a persona whose domain is now `domid`, or replaces it.
    void instance_domain(const std::shared_ptr<Backend>& b, xen::DomId domid);
    // The manager's end of the backend's xenstore link, or an error (the spawn is abandoned).
    void start_proxy(const std::shared_ptr<Backend>& b, xen::UniqueFd socket, std::unique_ptr<xen::XenStore> store);
    [[nodiscard]] std::set<xen::DomId> persona_domids() const;
    // What the proxy of `b` admits: its persona's domain for an instance, else every persona's.
    [[nodiscard]] std::set<xen::DomId> frontends_of(const Backend& b) const;

    boost::asio::io_context& io_;
    BackendEvents& events_;
    XenStoreOpener open_xenstore_;
    std::map<std::string, xen::DomId> persona_domains_;
    std::vector<std::shared_ptr<Backend>> backends_;
    boost::asio::signal_set sigchld_;
    // A SIGCHLD handler already queued when the supervisor goes away must not touch it.
    std::shared_ptr<int> alive_ = std::make_shared<int>(0);
    bool stopping_ = false;
};

} // namespace twofold::manager
