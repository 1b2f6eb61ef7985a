#pragma once
// twofold-manager: the control plane. It turns the checked policy into running personas
// (libvirt), plumbs their PV devices (xenstore), owns the foreground, reacts to the hardware
// key and the control socket, supervises the personas and the backend processes (whose acks
// commit a switch), and audits every decision.
// Single-threaded: all state lives on one io_context. The one exception is the keystore
// worker, which runs twofold-keystore (seconds of argon2id and TPM work) and posts only its
// answer back to that io_context.
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/steady_timer.hpp>

#include "twofold/audit/writer.h"
#include "twofold/focus/audit_limiter.h"
#include "twofold/manager/keystore_client.h"
#include "twofold/manager/pin_prompt.h"
#include "twofold/manager/backend_supervisor.h"
#include "twofold/manager/backends_config.h"
#include "twofold/manager/control_server.h"
#include "twofold/manager/domain_xml.h"
#include "twofold/manager/foreground.h"
#include "twofold/manager/hardware_key.h"
#include "twofold/manager/domain_control.h"
#include "twofold/manager/reconcile.h"
#include "twofold/manager/restart_budget.h"
#include "twofold/manager/loop_stall_meter.h"
#include "twofold/manager/foreground_nodes.h"
#include "twofold/manager/persona_notices.h"
#include "twofold/manager/xenstore_permission_guard.h"
#include "twofold/policy/policy.h"
#include "twofold/xen/xenstore.h"

namespace twofold::manager {

struct ManagerOptions {
    std::string libvirt_uri = "xen:///system"; // recorded in the audit log; the DomainControl opens it
    DomainFlavor flavor = DomainFlavor::xen_arm();
    std::filesystem::path control_socket = "/run/twofold/control.sock";
    control::AccessRule control_access;
    std::filesystem::path state_dir = "/run/twofold";     // foreground survives a manager restart
    bool use_hardware_key = true;
    std::chrono::milliseconds supervise_every{2000};
    std::chrono::milliseconds switch_timeout{500};
    std::vector<BackendConfig> backends;              // backends.toml; empty: none supervised
    std::chrono::milliseconds backend_stop_grace{3000}; // SIGTERM to SIGKILL when the manager stops
    std::chrono::seconds shutdown_timeout{20};        // `twofold shutdown`: guest power-off, then destroy
    std::string poweroff_command;                     // run with /bin/sh -c after a shutdown; empty: none
    // Is an unlocked encrypted volume there? Empty: the node exists in dom0's /dev (tests
    // inject their own).
    std::function<bool(const std::string&)> block_device_present;
    KeystoreOptions keystore; // the secure persona's sealed volume (twofold secure ...)
    // A privileged xenstored connection per proxied backend (backends.toml `xenstore`); empty
    // on a host without Xen.
    XenStoreOpener open_xenstore;
};

struct KeystoreStep; // one twofold-keystore call's outcome (manager.cpp)

class Manager : public control::RequestHandler, private BackendEvents {
public:
    // `libvirt`: the domains' control (twofold-manager: the broker client; host tests: libvirt
    // in process, to share the test driver's state). Never null.
    // `xenstore`: dom0's xenstore for PV plumbing; null on a host without Xen.
    // `audit`: null only in tests that do not look at the audit trail.
    // `permission_watch`: a second connection to dom0's xenstore, whose watch events only the
    // XenstorePermissionGuard reads (each persona's subtree kept closed to the other); null on
    // a host without Xen.
    Manager(boost::asio::io_context& io, policy::Policy policy, ManagerOptions options,
            std::unique_ptr<DomainControl> libvirt, std::unique_ptr<xen::XenStore> xenstore,
            std::unique_ptr<audit::Writer> audit, std::unique_ptr<xen::XenStore> permission_watch = nullptr,
            std::unique_ptr<xen::XenStore> notice_watch = nullptr);
    ~Manager() override;

    // Reconciles with libvirt and starts serving. Returns false if a persona failed to start
    // (the manager keeps running and keeps retrying per the restart policy).
    bool start();
    // One supervision pass (also run by the timer): restarts stopped personas per policy.
    void supervise();

    void handle(const control::Request& request, const control::PeerCredentials& peer,
                std::function<void(control::Reply)> done) override;

    // What the hardware key's bound gesture does: toggle the foreground. `done` is called when
    // the switch is committed or aborted (the benchmark times key-to-commit with it).
    void hardware_key_switch(std::function<void(control::Reply)> done);

    [[nodiscard]] const std::string& foreground() const { return foreground_->foreground(); }
    [[nodiscard]] nlohmann::json status_json();
    [[nodiscard]] const BackendSupervisor& backends() const { return *backends_; }

private:
    struct PersonaState {
        const policy::Persona* policy = nullptr;
        PersonaSpec spec;
        RestartBudget budget;
        bool stopped_by_operator = false;
        bool gave_up = false;
        std::optional<RestartBudget::Clock::time_point> retry_at;
        std::uint32_t restarts = 0;
    };
    struct SwitchWaiter {
        std::string target;
        std::function<void(control::Reply)> done;
    };

    void audit(const std::string& kind, const std::optional<std::string>& persona, nlohmann::json fields);
    void volume(const control::VolumeRequest& request, std::function<void(control::Reply)> done);
    void volume_finished(const std::string& persona, control::VolumeAction action, std::vector<KeystoreStep> steps,
                         std::function<void(control::Reply)> done);
    // The first encrypted disk of the persona that dom0 has not opened (it is locked), if any.
    [[nodiscard]] std::optional<std::string> locked_volume(const PersonaState& state) const;
    void request_switch(std::optional<std::string> target, SwitchSource source, std::function<void(control::Reply)> done);
    // dom0's PIN prompt (docs/manager.md, "The PIN prompt"): a switch toward a locked persona
    // goes to the prompt instead, when a display and an input backend are there to hold it.
    [[nodiscard]] bool prompt_possible() const;
    void open_prompt(const std::string& persona, SwitchSource source, std::function<void(control::Reply)> done);
    void redraw_prompt();
    void submit_prompt();
    void prompt_outcome(const std::string& persona, const control::Reply& reply);
    // The persona an audit record of `place` is about (the prompt's persona for the prompt).
    [[nodiscard]] std::optional<std::string> persona_at(const std::string& place) const;
    void run_commands(std::vector<Command>& commands);
    void lifecycle(const control::LifecycleRequest& request, std::function<void(control::Reply)> done);
    void plumb_devices(const std::string& persona, int domid);
    // The strip mark (docs/messaging.md): on for a background persona's notice, off once that
    // persona is in front.
    void persona_notice(const std::string& persona);
    // A switch phase's timeout that does not count the time this loop itself was blocked
    // (LoopStallMeter): extended by that time, at most kMaxTimeoutExtensions times.
    void arm_switch_timeout(std::uint64_t epoch, std::chrono::steady_clock::duration wait, int extensions);
    static constexpr auto kMinCountedStall = std::chrono::milliseconds(100);
    static constexpr int kMaxTimeoutExtensions = 4;
    void send_notice(const std::string& persona, bool mark);
    // For reconcile: the devices go into xenstore while the persona's domain is still paused.
    BeforeGuestRuns plumb_before_guest_runs();
    // reconcile plumbs the personas it starts; one it found running (started by an earlier
    // manager) gets here whatever of its devices is missing.
    void plumb_if_found_running(const ReconcileResult& r);
    void persist_foreground();
    [[nodiscard]] std::optional<std::string> recovered_foreground() const;
    void arm_supervision();
    void shutdown(std::function<void(control::Reply)> done);
    void await_personas_off(RestartBudget::Clock::time_point deadline, std::function<void(control::Reply)> done);
    void finish_shutdown(std::function<void(control::Reply)> done);

    // BackendEvents: the supervised backends' focus link, fed into the foreground machine.
    void holders_registered(const std::string& backend, const std::vector<FocusHolder>& holders) override;
    void holders_lost(const std::string& backend, const std::vector<FocusHolder>& holders) override;
    void focus_acknowledged(FocusHolder holder, std::uint64_t epoch) override;
    void focus_refused(FocusHolder holder, std::uint64_t epoch, const std::string& reason) override;
    void backend_audit(const std::string& kind, const std::optional<std::string>& persona, nlohmann::json fields) override;
    bool prompt_key(focus::PromptKey key) override;

    boost::asio::io_context& io_;
    policy::Policy policy_;
    ManagerOptions options_;
    std::unique_ptr<xen::XenStore> xenstore_;
    std::unique_ptr<audit::Writer> audit_;
    std::unique_ptr<xen::XenStore> permission_watch_;
    // A persona resetting its nodes in a loop gets its records counted, not written one by one.
    focus::AuditLimiter permission_audit_{"xenstore", focus::AuditLimits{}};
    std::unique_ptr<XenstorePermissionGuard> permission_guard_;
    std::unique_ptr<xen::XenStore> notice_watch_;
    std::unique_ptr<PersonaNotices> notices_;
    std::unique_ptr<ForegroundNodes> foreground_nodes_; // secure personas told whether they are in front
    std::set<std::string> notice_marks_; // personas whose mark is on dom0's strip

    std::unique_ptr<DomainControl> libvirt_;
    std::map<std::string, PersonaState> personas_;
    std::unique_ptr<ForegroundStateMachine> foreground_;
    std::vector<SwitchWaiter> switch_waiters_;
    std::map<std::uint64_t, std::unique_ptr<boost::asio::steady_timer>> switch_timers_;
    LoopStallMeter stall_meter_{io_};
    std::shared_ptr<int> alive_ = std::make_shared<int>(0); // held weakly by handlers that may outlive a cancel
    std::unique_ptr<control::ControlServer> control_;
    std::unique_ptr<HardwareKey> key_;
    boost::asio::steady_timer supervision_timer_;
    boost::asio::steady_timer shutdown_timer_;
    std::unique_ptr<BackendSupervisor> backends_;
    bool shutting_down_ = false;
    bool sealed_ = false; // the shutdown path already wrote manager.stop and sealed
    bool volume_busy_ = false; // a keystore operation is on the worker
    PinPrompt prompt_;
    std::uint64_t prompt_display_epoch_ = 0; // the focus order that put the prompt on the display
    std::uint64_t prompt_keys_dropped_ = 0;  // keys that arrived while the prompt was opening or closing
    std::uint64_t prompt_refusals_logged_ = 0;
    // Last member, destroyed first: its destructor waits for a keystore call in flight while
    // everything that call's completion posts back to is still alive.
    std::unique_ptr<boost::asio::thread_pool> keystore_worker_ = std::make_unique<boost::asio::thread_pool>(1);
};

// Maps the policy's persona to what libvirt needs.
// The framebuffer mode every persona gets on this board's screen: the panel minus dom0's
// indicator strip, and the video memory that takes.
struct GuestScreen {
    std::uint32_t width = 0;
    std::uint32_t height = 0;
    std::uint32_t videoram_mib = 0;
};
GuestScreen guest_screen(const policy::Display& screen);
// screen: the board's [board.display], if any (it sets the guest's framebuffer mode).
PersonaSpec persona_spec(const policy::Persona& persona, const std::optional<policy::Display>& screen = std::nullopt);

} // namespace twofold::manager
