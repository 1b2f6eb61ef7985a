// twofold-input-backend: routes dom0's input devices to the foreground persona only. With
// --peer-fd (how the manager runs it) it is the input owner: it holds the devices and no Xen
// handle, and each persona's ring is written by that persona's twofold-vkbd-backend over the
// link the manager made. Without, it serves vkbd to every persona itself (one process with
// Xen handles for both; lab debugging, with --foreground when no manager runs).
#include <csignal>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <boost/asio/signal_set.hpp>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "twofold/confine/options.h"
#include "twofold/focus/focus_client.h"
#include "twofold/input/confinement.h"
#include "twofold/input/evdev_source.h"
#include "twofold/input/input_backend.h"
#include "twofold/input/input_owner.h"
#include "twofold/xen/platform.h"
#include "twofold/xenbus/proxied_xenstore.h"

namespace {

using namespace twofold;

struct Options {
    std::vector<std::string> devices;
    std::vector<std::string> device_names;
    std::uint32_t width = 800;
    std::uint32_t height = 600;
    unsigned contacts = 10;
    std::string switch_key = "KEY_POWER";
    std::vector<std::string> personas;
    std::string foreground;
    std::optional<int> focus_fd;
    std::optional<int> xenstore_fd; // the manager's xenstore proxy (no xenstored connection of our own)
    std::vector<std::string> peer_fds; // NAME=FD: each persona's vkbd writer link
    std::string log_level = "info";
    confine::Options confine = confine::default_options("twofold-input");
};

std::vector<std::unique_ptr<input::InputSource>> open_sources(const Options& options, spdlog::logger& log) {
    std::vector<std::unique_ptr<input::InputSource>> sources;
    for (const auto& path : options.devices) sources.push_back(input::EvdevSource::open(path));
    for (const auto& name : options.device_names) {
        const auto paths = input::find_devices_by_name(name);
        if (paths.empty()) throw std::runtime_error("no input device named '" + name + "'");
        for (const auto& path : paths) {
            log.info("--device-name '{}': {}", name, path);
            sources.push_back(input::EvdevSource::open(path));
        }
    }
    return sources;
}

std::vector<std::pair<std::string, xen::UniqueFd>> parse_peer_fds(const std::vector<std::string>& texts) {
    std::vector<std::pair<std::string, xen::UniqueFd>> links;
    for (const auto& text : texts) {
        const auto eq = text.find('=');
        int fd = -1;
        if (eq == std::string::npos || eq == 0) throw std::invalid_argument("--peer-fd " + text + ": expected NAME=FD");
        try {
            std::size_t used = 0;
            fd = std::stoi(text.substr(eq + 1), &used);
            if (used != text.size() - eq - 1) fd = -1;
        } catch (const std::exception&) {
            fd = -1;
        }
        if (fd < 3) throw std::invalid_argument("--peer-fd " + text + ": FD must be an inherited descriptor (3 or more)");
        links.emplace_back(text.substr(0, eq), xen::UniqueFd(fd));
    }
    return links;
}

// The focus link of whichever process routes input (the owner, or the single process):
// orders go to its apply_focus, EOF stops it.
template <class Router>
std::unique_ptr<focus::FocusClient> input_focus_link(Router& router, int fd, const std::shared_ptr<spdlog::logger>& log) {
    return std::make_unique<focus::FocusClient>(
        router.io(), xen::UniqueFd(fd), focus::Hello{"input", {focus::Holder::Input}},
        [&router](const focus::Focus& order) -> std::optional<std::string> {
            const auto answer = router.apply_focus(order);
            if (const auto* refused = std::get_if<focus::Refuse>(&answer)) return refused->reason;
            return std::nullopt;
        },
        [&router, log](const std::string& why) {
            log->info("focus link closed ({}); exiting", why);
            router.stop();
        },
        log);
}

// The input owner: devices and routing here, each persona's ring in its own writer process.
int run_owner(const Options& options, std::vector<input::PersonaConfig> personas, input::GuestResolution resolution,
              std::uint32_t switch_key, spdlog::logger& log_ref, std::shared_ptr<spdlog::logger> log) {
    focus::FocusClient* audit_link = nullptr;
    input::InputOwner owner(
        input::InputOwnerConfig{std::move(personas), resolution, switch_key}, parse_peer_fds(options.peer_fds), log,
        [&audit_link](const focus::AuditEvent& event) {
            if (audit_link) audit_link->send(event);
        },
        [&audit_link](focus::PromptKey key) {
            if (audit_link) audit_link->send(focus::PromptKeyPress{key}); // PIN prompt keys: to the manager only
        });
    for (auto& source : open_sources(options, log_ref)) owner.add_source(std::move(source));
    if (owner.source_count() == 0) log_ref.warn("no input device given (--device/--device-name): guests get no input");

    std::unique_ptr<focus::FocusClient> focus_link;
    if (options.focus_fd) {
        focus_link = input_focus_link(owner, *options.focus_fd, log);
        audit_link = focus_link.get();
    } else if (!options.foreground.empty()) {
        const auto answer = owner.apply_focus(focus::Focus{options.foreground, 0});
        if (const auto* refused = std::get_if<focus::Refuse>(&answer)) {
            log_ref.error("--foreground: {}", refused->reason);
            return 2;
        }
    }
    owner.start();
    if (focus_link) focus_link->start();

    // Devices grabbed, links and the focus socket open: confine before any input is read.
    const auto confined = confine::apply(options.confine, input::input_owner_allowlist());
    if (confined.confined) {
        log_ref.info("input owner confined as {} (seccomp {}, {} syscalls); no Xen handle", options.confine.user,
                     confine::to_string(options.confine.mode), confined.seccomp.installed);
    } else {
        log_ref.warn("running unconfined (--no-confine)");
    }
    boost::asio::signal_set signals(owner.io(), SIGINT, SIGTERM);
    signals.async_wait([&](const boost::system::error_code&, int) { owner.stop(); });
    owner.run();
    return 0;
}

int run(const Options& options) {
    auto log = spdlog::stderr_color_mt("input");
    log->set_level(spdlog::level::from_str(options.log_level));

    input::InputBackendConfig config;
    for (const auto& text : options.personas) {
        auto persona = input::parse_persona_option(text);
        if (!persona) {
            log->error("--persona {}: {}", text, persona.error().message);
            return 2;
        }
        config.personas.push_back(std::move(persona).value());
    }
    config.resolution = input::GuestResolution{options.width, options.height, options.contacts};
    const auto switch_key = input::key_code_from_name(options.switch_key);
    if (!switch_key) {
        log->error("--switch-key {}: not a key name", options.switch_key);
        return 2;
    }
    config.switch_key = *switch_key;
    if (!options.peer_fds.empty()) {
        return run_owner(options, config.personas, config.resolution, config.switch_key, *log, log);
    }

    auto sources = open_sources(options, *log);
    if (sources.empty()) log->warn("no input device given (--device/--device-name): guests get no input");

    focus::FocusClient* audit_link = nullptr; // the backend's audit events go up the focus link
    std::unique_ptr<xen::Platform> platform = xen::make_real_platform();
    if (options.xenstore_fd) platform = xenbus::with_xenstore_proxy(std::move(platform), xen::UniqueFd(*options.xenstore_fd));
    input::InputBackend backend(
        *platform, config, log, [&audit_link](const focus::AuditEvent& event) {
            if (audit_link) audit_link->send(event);
        },
        [&audit_link](focus::PromptKey key) {
            if (audit_link) audit_link->send(focus::PromptKeyPress{key}); // PIN prompt keys: to the manager only
        });
    for (auto& source : sources) backend.add_source(std::move(source));

    // Declared after the backend: the client's socket goes before the backend's io_context does.
    std::unique_ptr<focus::FocusClient> focus_link;
    if (options.focus_fd) {
        focus_link = input_focus_link(backend, *options.focus_fd, log);
        audit_link = focus_link.get();
    } else if (!options.foreground.empty()) {
        const auto answer = backend.apply_focus(focus::Focus{options.foreground, 0});
        if (const auto* refused = std::get_if<focus::Refuse>(&answer)) {
            log->error("--foreground: {}", refused->reason);
            return 2;
        }
    }

    backend.start();
    if (focus_link) focus_link->start();

    // Every device, Xen handle and the focus socket is open: confine before any guest input.
    const auto confined = confine::apply(options.confine, input::input_allowlist());
    if (confined.confined) {
        log->info("confined as {} (seccomp {}, {} syscalls)", options.confine.user, confine::to_string(options.confine.mode),
                  confined.seccomp.installed);
    } else {
        log->warn("running unconfined (--no-confine)");
    }

    boost::asio::signal_set signals(backend.io(), SIGINT, SIGTERM);
    signals.async_wait([&](const boost::system::error_code&, int) { backend.stop(); });
    backend.run();
    return 0;
}

} // namespace

int main(int argc, char** argv) {
    CLI::App app{"twofold vkbd input backend"};
    Options options;
    app.add_option("--device", options.devices, "evdev node to read and grab (repeatable)");
    app.add_option("--device-name", options.device_names, "evdev device name to read and grab (repeatable)");
    app.add_option("--width", options.width, "guest pointer/touch width in pixels")->check(CLI::Range(1U, 16384U));
    app.add_option("--height", options.height, "guest pointer/touch height in pixels")->check(CLI::Range(1U, 16384U));
    app.add_option("--contacts", options.contacts, "multi-touch contacts offered (0: none)")->check(CLI::Range(0U, 16U));
    app.add_option("--switch-key", options.switch_key, "hardware switch key, never delivered")->capture_default_str();
    app.add_option("--persona", options.personas, "DOMAIN_NAME:secure|personal (repeatable)")->required();
    app.add_option("--foreground", options.foreground, "standalone: the persona that gets input");
    app.add_option("--focus-fd", options.focus_fd, "focus link socket inherited from twofold-manager");
    app.add_option("--peer-fd", options.peer_fds,
                   "NAME=FD: the link to persona NAME's vkbd writer (repeatable; from twofold-manager). "
                   "With it this process holds no Xen handle");
    app.add_option("--xenstore-fd", options.xenstore_fd, "xenstore proxy socket inherited from twofold-manager");
    app.add_option("--log-level", options.log_level, "trace|debug|info|warn|error")->capture_default_str();
    confine::add_options(app, options.confine);
    CLI11_PARSE(app, argc, argv);
    try {
        return run(options);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "twofold-input-backend: %s\n", e.what());
        return 1;
    }
}
