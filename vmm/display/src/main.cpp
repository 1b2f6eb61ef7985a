// twofold-display-backend: serves vfb to the configured personas and presents the foreground
// one. Until the DRM/fbdev targets land (board session) output is the headless target, and
// --dump-dir writes each switch's first frame as a PPM (lab artefacts).
#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "twofold/display/compositor.h"
#include "twofold/display/persona_map.h"
#include "twofold/display/vfb_device.h"
#include "twofold/xen/platform.h"
#include "twofold/xenbus/backend_runtime.h"
#include "twofold/xenbus/backend_service.h"

namespace {

using namespace twofold;

constexpr auto kRefresh = std::chrono::microseconds(16667); // 60 Hz

struct Options {
    std::uint32_t width = 800;
    std::uint32_t height = 600;
    std::uint32_t strip = display::kDefaultStripHeight;
    std::size_t videoram_mib = 16;
    std::vector<std::string> personas;
    std::string foreground;
    std::string dump_dir;
};

// Presents at the refresh rate; frames are composed only when something changed.
class Presenter {
public:
    Presenter(boost::asio::io_context& io, display::Compositor& compositor, display::HeadlessTarget& target,
              std::shared_ptr<spdlog::logger> log, std::optional<std::filesystem::path> dump_dir)
        : timer_(io), compositor_(compositor), target_(target), log_(std::move(log)), dump_dir_(std::move(dump_dir)) {}

    void start() { arm(); }

private:
    void arm() {
        timer_.expires_after(kRefresh);
        timer_.async_wait([this](const boost::system::error_code& error) {
            if (error) return;
            compositor_.present();
            if (const auto done = compositor_.take_presented_switch()) {
                log_->info("presented persona {} (epoch {})", done->persona, done->epoch);
                if (dump_dir_) {
                    const auto path = *dump_dir_ / ("switch-" + std::to_string(++dumps_) + ".ppm");
                    if (auto written = target_.screen().write_ppm(path); !written) {
                        log_->warn("{}", written.error().message);
                    }
                }
            }
            arm();
        });
    }

    boost::asio::steady_timer timer_;
    display::Compositor& compositor_;
    display::HeadlessTarget& target_;
    std::shared_ptr<spdlog::logger> log_;
    std::optional<std::filesystem::path> dump_dir_;
    std::size_t dumps_ = 0;
};

int run(const Options& options) {
    auto log = spdlog::stderr_color_mt("display");
    std::vector<display::PersonaConfig> personas;
    for (const auto& text : options.personas) {
        auto persona = display::parse_persona_option(text);
        if (!persona) {
            log->error("--persona {}: {}", text, persona.error().message);
            return 2;
        }
        personas.push_back(std::move(persona).value());
    }
    display::HeadlessTarget target(options.width, options.height);
    display::Compositor compositor(target, options.strip);
    const display::PersonaMap map(compositor, personas);
    if (!options.foreground.empty()) {
        const auto id = map.by_name(options.foreground);
        if (!id) {
            log->error("--foreground {}: not a configured persona", options.foreground);
            return 2;
        }
        compositor.switch_to(*id);
    }

    auto platform = xen::make_real_platform();
    xenbus::BackendRuntime runtime(*platform, log);
    auto services = runtime.services();
    const display::VfbConfig config{options.videoram_mib << 20};
    xenbus::BackendService service(
        services, runtime.own_domid(), xenbus::DeviceType::Vfb,
        [&](const xenbus::DevicePaths& paths) -> std::unique_ptr<xenbus::Device> {
            const auto persona = map.for_domain(runtime.store(), paths.frontend_domid());
            if (!persona) {
                log->warn("vfb {}: domain is no configured persona; refused", paths.frontend_domid());
                return nullptr;
            }
            return std::make_unique<display::VfbDevice>(compositor, *persona, services.foreign,
                                                        paths.frontend_domid(), config);
        });
    service.start();
    Presenter presenter(runtime.io(), compositor, target, log,
                        options.dump_dir.empty() ? std::nullopt
                                                 : std::optional<std::filesystem::path>(options.dump_dir));
    presenter.start();
    boost::asio::signal_set signals(runtime.io(), SIGINT, SIGTERM);
    signals.async_wait([&](const boost::system::error_code&, int) { runtime.stop(); });
    runtime.run();
    return 0;
}

} // namespace

int main(int argc, char** argv) {
    CLI::App app{"twofold vfb display backend"};
    Options options;
    app.add_option("--width", options.width, "screen width in pixels")->check(CLI::Range(64U, 8192U));
    app.add_option("--height", options.height, "screen height in pixels")->check(CLI::Range(64U, 8192U));
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
