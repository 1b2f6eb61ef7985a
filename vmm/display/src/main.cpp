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

#include "twofold/display/display_backend.h"
#include "twofold/display/output.h"
#include "twofold/xen/platform.h"

namespace {

using namespace twofold;

struct Options {
    std::string output = "headless";
    std::string mode;
    std::uint32_t strip = display::kDefaultStripHeight;
    std::size_t videoram_mib = 16;
    std::vector<std::string> personas;
    std::string foreground;
    std::string dump_dir;
};

int run(const Options& options) {
    auto log = spdlog::stderr_color_mt("display");
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
    auto platform = xen::make_real_platform();
    display::DisplayBackend backend(*platform, target, config, log, [&](const display::PresentedSwitch&) {
        if (options.dump_dir.empty()) return;
        const auto path = std::filesystem::path(options.dump_dir) / ("switch-" + std::to_string(++dumps) + ".ppm");
        if (auto written = target.screen().write_ppm(path); !written) log->warn("{}", written.error().message);
    });
    if (!options.foreground.empty()) {
        const auto id = backend.personas().by_name(options.foreground);
        if (!id) {
            log->error("--foreground {}: not a configured persona", options.foreground);
            return 2;
        }
        backend.switch_to(*id);
    }
    backend.start();
    boost::asio::signal_set signals(backend.io(), SIGINT, SIGTERM);
    signals.async_wait([&](const boost::system::error_code&, int) { backend.stop(); });
    backend.run();
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
    app.add_option("--foreground", options.foreground, "persona shown first");
    app.add_option("--dump-dir", options.dump_dir, "write each switch's first frame here as PPM");
    CLI11_PARSE(app, argc, argv);
    try {
        return run(options);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "twofold-display-backend: %s\n", e.what());
        return 1;
    }
}
