// twofold-display-backend: serves vfb to the configured personas and presents the foreground
// one on the output (--output drm[:DEV] | fbdev[:DEV] | headless); --dump-dir writes each
// switch's first frame as a PPM (lab artefacts).
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <boost/asio/signal_set.hpp>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "twofold/confine/options.h"
#include "twofold/display/confinement.h"
#include "twofold/display/display_backend.h"
#include "twofold/display/output.h"
#include "twofold/xen/platform.h"
#include "twofold/xenbus/proxied_xenstore.h"

namespace {

using namespace twofold;

struct Options {
    std::string output = "headless";
    std::string mode;
    std::uint32_t strip = display::kDefaultStripHeight;
    std::size_t videoram_mib = 16;
    std::vector<std::string> personas;
    std::string foreground;
    int focus_fd = -1;
    std::optional<int> xenstore_fd; // the manager's xenstore proxy (no xenstored connection of our own)
    std::string log_level = "info";
    std::string dump_dir;
    confine::Options confinement = confine::default_options("twofold-display");
};

int run(const Options& options) {
    auto log = spdlog::stderr_color_mt("display");
    log->set_level(spdlog::level::from_str(options.log_level));
    display::DisplayBackendConfig config;
    for (const auto& text : options.personas) {
        auto persona = display::parse_persona_option(text);
        if (!persona) {
            log->error("--persona {}: {}", text, persona.error().message);
            return 2;
        }
        config.personas.push_back(std::move(persona).value());
    }
    config.strip_height = options.strip;
    if (options.focus_fd >= 0) config.focus_fd = options.focus_fd;
    config.vfb.max_mem_length = options.videoram_mib << 20;

    const auto spec = display::parse_output_spec(options.output);
    if (!spec) {
        log->error("{}", spec.error().message);
        return 2;
    }
    std::optional<display::ModeRequest> mode;
    if (!options.mode.empty()) {
        auto parsed = display::parse_mode_request(options.mode);
        if (!parsed) {
            log->error("{}", parsed.error().message);
            return 2;
        }
        mode = parsed.value();
    }
    auto opened = display::open_output(spec.value(), mode, display::ModeRequest{800, 600});
    if (!opened) {
        log->error("output: {}", opened.error().message);
        return 1;
    }
    const std::unique_ptr<display::DisplayTarget> output = std::move(opened).value();
    display::DisplayTarget& target = *output;
    log->info("output {}x{} ({})", target.screen().width(), target.screen().height(), options.output);
    std::size_t dumps = 0;
    std::unique_ptr<xen::Platform> platform = xen::make_real_platform();
    if (options.xenstore_fd) platform = xenbus::with_xenstore_proxy(std::move(platform), xen::UniqueFd(*options.xenstore_fd));
    display::DisplayBackend backend(*platform, target, config, log, [&](const display::PresentedSwitch&) {
        if (options.dump_dir.empty()) return;
        const auto path = std::filesystem::path(options.dump_dir) / ("switch-" + std::to_string(++dumps) + ".ppm");
        if (auto written = target.screen().write_ppm(path); !written) log->warn("{}", written.error().message);
    });
    // With the focus link the manager alone decides what is shown.
    if (options.focus_fd < 0 && !options.foreground.empty()) {
        const auto id = backend.personas().by_name(options.foreground);
        if (!id) {
            log->error("--foreground {}: not a configured persona", options.foreground);
            return 2;
        }
        backend.switch_to(*id);
    }
    // Everything is open before confinement: output, Xen handles, the xenstore connection and
    // its watch thread (started by the first watch), the focus link, the signal pipe.
    backend.start();
    boost::asio::signal_set signals(backend.io(), SIGINT, SIGTERM);
    signals.async_wait([&](const boost::system::error_code&, int) { backend.stop(); });
    const auto confined = confine::apply(options.confinement, display::display_allowlist());
    if (confined.confined) {
        log->info("confined: user {}, seccomp {} ({} syscalls{})", options.confinement.user,
                  confine::to_string(options.confinement.mode), confined.seccomp.installed,
                  confined.seccomp.skipped.empty() ? "" : ", some absent on this architecture");
    } else {
        log->warn("running unconfined (--no-confine)");
    }
    backend.run();
    if (!backend.stop_reason().empty()) log->info("stopped: {}", backend.stop_reason());
    return 0;
}

} // namespace

int main(int argc, char** argv) {
    CLI::App app{"twofold vfb display backend"};
    Options options;
    app.add_option("--output", options.output, "headless | drm[:/dev/dri/cardN] | fbdev[:/dev/fbN]")
        ->capture_default_str();
    app.add_option("--mode", options.mode, "WIDTHxHEIGHT (drm: a mode the connector offers; headless: the size; "
                                           "default: the preferred mode, headless 800x600)");
    app.add_option("--strip", options.strip, "indicator strip height in pixels")->check(CLI::Range(8U, 512U));
    app.add_option("--videoram", options.videoram_mib, "per-guest framebuffer limit, MiB")->check(CLI::Range(1, 64));
    app.add_option("--persona", options.personas, "DOMAIN_NAME:secure|personal (repeatable)")->required();
    app.add_option("--foreground", options.foreground, "persona shown (standalone, without --focus-fd)");
    app.add_option("--focus-fd", options.focus_fd, "the manager's focus link (inherited socket fd)")
        ->check(CLI::NonNegativeNumber);
    app.add_option("--xenstore-fd", options.xenstore_fd, "xenstore proxy socket inherited from twofold-manager");
    app.add_option("--log-level", options.log_level, "trace|debug|info|warn|error")
        ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error"}))
        ->capture_default_str();
    app.add_option("--dump-dir", options.dump_dir, "write each switch's first frame here as PPM");
    confine::add_options(app, options.confinement);
    CLI11_PARSE(app, argc, argv);
    if (!options.dump_dir.empty() && !options.confinement.no_confine) {
        // Writing a dump opens a file, which the confined backend may not do.
        std::fprintf(stderr, "twofold-display-backend: --dump-dir needs --no-confine\n");
        return 2;
    }
    try {
        return run(options);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "twofold-display-backend: %s\n", e.what());
        return 1;
    }
}
