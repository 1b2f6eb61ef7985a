// twofold-sound-backend: serves vsnd (Xen sndif) to the configured personas and plays only
// the foreground persona's streams to dom0's ALSA device. Started by twofold-manager with
// --focus-fd (the manager does not send it focus orders yet: docs/sound.md); standalone (lab
// debugging) with --foreground.
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
#include "twofold/sound/alsa_sink.h"
#include "twofold/sound/confinement.h"
#include "twofold/sound/sound_backend.h"
#include "twofold/xen/platform.h"
#include "twofold/xenbus/proxied_xenstore.h"

namespace {

using namespace twofold;

struct Options {
    std::vector<std::string> personas;
    std::string foreground;
    std::string playback_device = "plughw:0,0";
    std::string capture_device = "plughw:0,0";
    std::optional<int> focus_fd;
    std::optional<int> xenstore_fd;
    std::string log_level = "info";
    confine::Options confine = confine::default_options("twofold-sound");
};

int run(const Options& options) {
    auto log = spdlog::stderr_color_mt("sound");
    log->set_level(spdlog::level::from_str(options.log_level));

    // Opened before confinement: the confined process opens nothing.
    sound::AlsaSink sink(options.playback_device, options.capture_device, log);

    focus::FocusClient* audit_link = nullptr;
    std::unique_ptr<xen::Platform> platform = xen::make_real_platform();
    if (options.xenstore_fd) platform = xenbus::with_xenstore_proxy(std::move(platform), xen::UniqueFd(*options.xenstore_fd));
    sound::SoundBackendConfig config;
    config.personas = options.personas;
    sound::SoundBackend backend(*platform, config, sink, log, [&audit_link](const focus::AuditEvent& event) {
        if (audit_link) audit_link->send(event);
    });

    std::unique_ptr<focus::FocusClient> focus_link;
    if (options.focus_fd) {
        // No holder yet: focus::Holder has no "sound" entry until the manager's switch knows
        // it (docs/sound.md). Orders the manager sends anyway are applied and answered.
        focus_link = std::make_unique<focus::FocusClient>(
            backend.io(), xen::UniqueFd(*options.focus_fd), focus::Hello{"sound", {}},
            [&backend](const focus::Focus& order) -> std::optional<std::string> {
                const auto answer = backend.apply_focus(order);
                if (const auto* refused = std::get_if<focus::Refuse>(&answer)) return refused->reason;
                return std::nullopt;
            },
            [&backend, &log](const std::string& why) {
                log->info("focus link closed ({}); exiting", why);
                backend.stop();
            },
            log);
        audit_link = focus_link.get();
    }
    if (!options.foreground.empty()) {
        const auto answer = backend.apply_focus(focus::Focus{options.foreground, 0});
        if (const auto* refused = std::get_if<focus::Refuse>(&answer)) {
            log->error("--foreground: {}", refused->reason);
            return 2;
        }
    }

    backend.start();
    if (focus_link) focus_link->start();

    const auto confined = confine::apply(options.confine, sound::sound_allowlist());
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
    CLI::App app{"twofold vsnd (Xen sndif) sound backend"};
    Options options;
    app.add_option("--persona", options.personas, "persona domain name to serve (repeatable)")->required();
    app.add_option("--foreground", options.foreground, "standalone: the persona that is heard");
    app.add_option("--playback-device", options.playback_device, "ALSA playback PCM")->capture_default_str();
    app.add_option("--capture-device", options.capture_device, "ALSA capture PCM ('' for none)")->capture_default_str();
    app.add_option("--focus-fd", options.focus_fd, "focus link socket inherited from twofold-manager");
    app.add_option("--xenstore-fd", options.xenstore_fd, "xenstore proxy socket inherited from twofold-manager");
    app.add_option("--log-level", options.log_level, "trace|debug|info|warn|error")->capture_default_str();
    confine::add_options(app, options.confine);
    CLI11_PARSE(app, argc, argv);
    try {
        return run(options);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "twofold-sound-backend: %s\n", e.what());
        return 1;
    }
}
