// twofold-manager: see include/twofold/manager/manager.h.
#include <grp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <fstream>
#include <iostream>

#include <CLI/CLI.hpp>
#include <boost/asio/signal_set.hpp>
#include <spdlog/spdlog.h>

#include "twofold/audit/keys.h"
#include "twofold/audit/sink.h"
#include "twofold/manager/backends_config.h"
#include "twofold/manager/broker_client.h"
#include "twofold/manager/manager.h"
#include "twofold/policy/checker.h"
#include "twofold/policy/report.h"
#include "twofold/xen/platform.h"

namespace {

using twofold::manager::Manager;
using twofold::manager::ManagerOptions;

constexpr int kExitOk = 0;
constexpr int kExitPolicy = 1;
constexpr int kExitUsage = 2;
constexpr int kExitRuntime = 3;
constexpr const char* kDefaultBackendsFile = "/etc/twofold/backends.toml";
constexpr const char* kBrokerUser = "twofold-libvirt";

// The broker installed beside this executable (docs/manager.md): sbin/../libexec/twofold.
std::filesystem::path own_broker_path() {
    std::error_code ec;
    const auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
    return ec ? std::filesystem::path{} : twofold::manager::default_broker_path(self);
}

// Loads the signing key, creating it on first boot (private 0600 + public .pub beside it),
// so that a fresh device starts auditing at once. The public key is what a verifier pins.
twofold::audit::SigningKey load_or_create_key(const std::filesystem::path& path) {
    if (std::filesystem::exists(path)) {
        return twofold::audit::SigningKey::load_pem(path);
    }
    std::filesystem::create_directories(path.parent_path());
    auto key = twofold::audit::SigningKey::generate();
    const mode_t old = ::umask(0077);
    {
        std::ofstream(path) << key.private_pem();
    }
    ::umask(old);
    std::ofstream(path.string() + ".pub") << key.public_pem();
    spdlog::warn("audit: created signing key {} (public key {}.pub)", path.string(), path.string());
    return key;
}

} // namespace

int main(int argc, char** argv) {
    CLI::App app{"twofold-manager: the management daemon of a twofold device (runs in dom0)", "twofold-manager"};
    std::string policy_file = "/etc/twofold/personas.toml";
    ManagerOptions options;
    std::string control_group;
    std::string audit_dir;
    bool no_xen = false;
    bool test_driver = false;
    bool check_only = false;
    std::string backends_file = kDefaultBackendsFile;
    std::int64_t shutdown_timeout_s = options.shutdown_timeout.count();
    std::int64_t switch_timeout_ms = options.switch_timeout.count();
    twofold::manager::BrokerOptions broker;
    broker.program = own_broker_path();
    // As root the broker drops to its own user; a developer's unprivileged run keeps its user.
    broker.user = ::geteuid() == 0 ? kBrokerUser : "";
    std::int64_t libvirt_timeout_s = std::chrono::duration_cast<std::chrono::seconds>(broker.reply_timeout).count();
    app.add_option("--policy", policy_file, "persona policy file")->capture_default_str();
    app.add_option("--libvirt", options.libvirt_uri, "libvirt connection URI")->capture_default_str();
    app.add_option("--libvirt-broker", broker.program,
                   "the libvirt broker program (default: ../libexec/twofold/twofold-libvirt-broker beside this executable)")
        ->capture_default_str();
    app.add_option("--libvirt-broker-user", broker.user,
                   "user the broker drops to (default: twofold-libvirt when run as root, none otherwise)")
        ->capture_default_str();
    app.add_option("--libvirt-broker-seccomp", broker.seccomp, "the broker's seccomp default action: kill or log")
        ->check(CLI::IsMember({"kill", "log"}))
        ->capture_default_str();
    app.add_option("--libvirt-timeout", libvirt_timeout_s, "seconds one libvirt call through the broker may take")
        ->check(CLI::Range(1, 3600))
        ->capture_default_str();
    app.add_flag("--libvirt-test-flavor", test_driver, "generate domains for libvirt's test driver (host tests)");
    app.add_option("--control-socket", options.control_socket, "control socket path")->capture_default_str();
    app.add_option("--control-group", control_group, "group allowed to use the control socket besides root");
    app.add_option("--state-dir", options.state_dir, "runtime state (foreground)")->capture_default_str();
    app.add_option("--audit-dir", audit_dir, "audit log directory (default: the policy's [audit] log folder)");
    app.add_flag("--no-xen", no_xen, "do not touch xenstore (host runs without Xen)");
    app.add_flag("--no-hardware-key", [&](std::int64_t) { options.use_hardware_key = false; }, "do not read the hardware key");
    app.add_option("--backends", backends_file,
                   "backend processes to supervise (TOML, docs/manager.md); the default file may be absent: no backends")
        ->capture_default_str();
    app.add_option("--poweroff-command", options.poweroff_command,
                   "run with /bin/sh -c after `twofold shutdown` stopped the personas and sealed the audit log (default: none)");
    app.add_option("--shutdown-timeout", shutdown_timeout_s, "seconds a persona gets to power off before it is destroyed")
        ->check(CLI::Range(1, 600))
        ->capture_default_str();
    app.add_option("--switch-timeout-ms", switch_timeout_ms,
                   "milliseconds every focus holder gets to ack a switch before it is rolled back")
        ->check(CLI::Range(50, 10000))
        ->capture_default_str();
    app.add_flag("--check", check_only, "load and check the policy (and the backends file), then exit");
    app.footer("Exit codes: 0 stopped cleanly, 1 policy or backends file has errors, 2 usage, 3 runtime failure.\n"
               "Signals: SIGTERM/SIGINT stop the manager and its backends; personas keep running.\n"
               "`twofold shutdown` stops the personas too, seals the audit log, runs --poweroff-command and exits 0.");
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e) == 0 ? kExitOk : kExitUsage;
    }

    const auto loaded = twofold::policy::load_and_check_policy_file(policy_file);
    bool has_error = !loaded.policy;
    for (const auto& f : loaded.findings) {
        std::cerr << twofold::policy::format_human(f) << '\n';
        has_error = has_error || f.severity == twofold::policy::Severity::error;
    }
    if (has_error) {
        std::cerr << "twofold-manager: policy " << policy_file << " has errors; nothing started\n";
        return kExitPolicy;
    }
    if (backends_file != kDefaultBackendsFile || std::filesystem::exists(backends_file)) {
        auto backends = twofold::manager::load_backends_file(backends_file);
        for (const auto& e : backends.errors) {
            std::cerr << e << '\n';
        }
        if (!backends.config) {
            std::cerr << "twofold-manager: " << backends_file << " has errors; nothing started\n";
            return kExitPolicy;
        }
        options.backends = std::move(backends.config->backends);
    } else {
        spdlog::info("no {}: no backend processes to supervise", backends_file);
    }
    options.shutdown_timeout = std::chrono::seconds(shutdown_timeout_s);
    options.switch_timeout = std::chrono::milliseconds(switch_timeout_ms);
    if (check_only) {
        return kExitOk;
    }
    if (broker.program.empty() || !broker.program.is_absolute() || ::access(broker.program.c_str(), X_OK) != 0) {
        std::cerr << "twofold-manager: no libvirt broker at '" << broker.program.string()
                  << "' (not an executable absolute path; --libvirt-broker PATH)\n";
        return kExitUsage;
    }
    broker.uri = options.libvirt_uri;
    broker.reply_timeout = std::chrono::seconds(libvirt_timeout_s);
    if (test_driver) {
        options.flavor = twofold::manager::DomainFlavor::test_driver();
    }
    if (!control_group.empty()) {
        const group* g = ::getgrnam(control_group.c_str());
        if (g == nullptr) {
            std::cerr << "twofold-manager: no group '" << control_group << "'\n";
            return kExitUsage;
        }
        options.control_access.group = g->gr_gid;
    }

    try {
        const auto& policy = *loaded.policy;
        std::unique_ptr<twofold::audit::Writer> audit;
        const std::filesystem::path dir =
            audit_dir.empty() ? std::filesystem::path(policy.audit.log.value).parent_path() : std::filesystem::path(audit_dir);
        twofold::audit::WriterConfig config;
        config.checkpoint_every_records = policy.audit.checkpoint_records.value;
        config.checkpoint_every = std::chrono::seconds(policy.audit.checkpoint_seconds.value);
        config.rotate_bytes = std::uint64_t{policy.audit.rotate_mib.value} * 1024 * 1024;
        config.keep_bytes = std::uint64_t{policy.audit.keep_mib.value} * 1024 * 1024;
        config.sync = policy.audit.fsync.value == twofold::policy::FsyncPolicy::every_record
                          ? twofold::audit::SyncPolicy::every_record
                          : twofold::audit::SyncPolicy::at_checkpoint;
        audit = twofold::audit::Writer::open(std::make_unique<twofold::audit::PosixLogStore>(dir),
                                             load_or_create_key(policy.audit.signing_key.value), config);

        std::unique_ptr<twofold::xen::XenStore> xenstore;
        std::unique_ptr<twofold::xen::XenStore> permission_watch;
        std::unique_ptr<twofold::xen::XenStore> notice_watch;
        std::shared_ptr<twofold::xen::Platform> platform;
        if (!no_xen) {
            platform = twofold::xen::make_real_platform();
            xenstore = platform->open_xenstore();
            permission_watch = platform->open_xenstore();
            notice_watch = platform->open_xenstore(); // its watch events are the notices' alone
            // One xenstored connection per proxied backend: its watches and tokens are its own.
            options.open_xenstore = [platform] { return platform->open_xenstore(); };
        }

        boost::asio::io_context io;
        Manager manager(io, policy, options, std::make_unique<twofold::manager::BrokerClient>(broker), std::move(xenstore),
                        std::move(audit), std::move(permission_watch), std::move(notice_watch));
        if (!manager.start()) {
            spdlog::error("twofold-manager: not every persona started; supervision keeps retrying");
        }
        boost::asio::signal_set signals(io, SIGINT, SIGTERM);
        signals.async_wait([&io](const boost::system::error_code&, int signo) {
            spdlog::info("twofold-manager: signal {}; stopping (personas keep running)", signo);
            io.stop();
        });
        io.run();
    } catch (const std::exception& e) {
        spdlog::critical("twofold-manager: {}", e.what());
        return kExitRuntime;
    }
    return kExitOk;
}
