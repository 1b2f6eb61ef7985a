// twofold-vkbd-backend: one persona's vkbd writer. Started by twofold-manager once per persona
// (backends.toml per_persona, peer "input"): it serves that persona's xen-kbdfront and writes
// into its ring only what the input owner sends on --peer-fd. Once its Xen handles are open it
// restricts them to --domid, for good, and then confines itself (own user, seccomp): taken
// over by its guest, it reaches nothing of the other persona.
#include <csignal>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>

#include <CLI/CLI.hpp>
#include <boost/asio/signal_set.hpp>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "twofold/confine/options.h"
#include "twofold/focus/focus_client.h"
#include "twofold/input/confinement.h"
#include "twofold/input/personas.h"
#include "twofold/input/vkbd_writer.h"
#include "twofold/xen/platform.h"
#include "twofold/xenbus/proxied_xenstore.h"

namespace {

using namespace twofold;

struct Options {
    std::string persona;
    std::uint32_t domid = 0;
    int peer_fd = -1;
    std::uint32_t width = 800;
    std::uint32_t height = 600;
    unsigned contacts = 10;
    std::optional<int> focus_fd;
    std::optional<int> xenstore_fd;
    std::string log_level = "info";
    confine::Options confine = confine::default_options("twofold-vkbd");
};

int run(const Options& options) {
    auto persona = input::parse_persona_option(options.persona);
    auto log = spdlog::stderr_color_mt(persona ? "vkbd-" + persona.value().name : "vkbd");
    log->set_level(spdlog::level::from_str(options.log_level));
    if (!persona) {
        log->error("--persona {}: {}", options.persona, persona.error().message);
        return 2;
    }
    if (options.domid == 0 || options.domid >= xen::kFirstReservedDomId) {
        log->error("--domid {}: a guest domain's id (1 to {})", options.domid, xen::kFirstReservedDomId - 1);
        return 2;
    }
    const auto domid = static_cast<xen::DomId>(options.domid);

    focus::FocusClient* audit_link = nullptr;
    std::unique_ptr<xen::Platform> platform = xen::make_real_platform();
    if (options.xenstore_fd) platform = xenbus::with_xenstore_proxy(std::move(platform), xen::UniqueFd(*options.xenstore_fd));
    input::VkbdWriter writer(*platform,
                             input::VkbdWriterConfig{persona.value(), domid,
                                                     input::GuestResolution{options.width, options.height, options.contacts}},
                             xen::UniqueFd(options.peer_fd), log, [&audit_link](const focus::AuditEvent& event) {
                                 if (audit_link) audit_link->send(event);
                             });

    std::unique_ptr<focus::FocusClient> focus_link;
    if (options.focus_fd) {
        // No focus holder: the owner decides where input goes; the manager supervises this
        // process and takes its audit events.
        focus_link = std::make_unique<focus::FocusClient>(
            writer.io(), xen::UniqueFd(*options.focus_fd), focus::Hello{"vkbd", {}},
            [](const focus::Focus&) -> std::optional<std::string> { return "a vkbd writer holds no focus"; },
            [&writer, &log](const std::string& why) {
                log->info("focus link closed ({}); exiting", why);
                writer.stop();
            },
            log);
        audit_link = focus_link.get();
    }

    // Every handle this process will use is open (the runtime opened its event channel and
    // privcmd handles): from here they reach this persona's domain only.
    platform->restrict_to(domid);
    log->info("Xen handles restricted to domain {} ({})", options.domid, persona.value().name);

    writer.start();
    if (focus_link) focus_link->start();

    const auto confined = confine::apply(options.confine, input::vkbd_writer_allowlist());
    if (confined.confined) {
        log->info("confined as {} (seccomp {}, {} syscalls)", options.confine.user, confine::to_string(options.confine.mode),
                  confined.seccomp.installed);
    } else {
        log->warn("running unconfined (--no-confine)");
    }

    boost::asio::signal_set signals(writer.io(), SIGINT, SIGTERM);
    signals.async_wait([&](const boost::system::error_code&, int) { writer.stop(); });
    writer.run();
    return 0;
}

} // namespace

int main(int argc, char** argv) {
    CLI::App app{"twofold vkbd writer: one persona's keyboard and touch ring, fed by the input owner"};
    Options options;
    app.add_option("--persona", options.persona, "DOMAIN_NAME:secure|personal, the one persona served")->required();
    app.add_option("--domid", options.domid, "its domain's id: every Xen handle is restricted to it")->required();
    app.add_option("--peer-fd", options.peer_fd, "the link to the input owner, inherited from twofold-manager")
        ->required()
        ->check(CLI::Range(3, 1023));
    app.add_option("--width", options.width, "guest pointer/touch width in pixels")->check(CLI::Range(1U, 16384U));
    app.add_option("--height", options.height, "guest pointer/touch height in pixels")->check(CLI::Range(1U, 16384U));
    app.add_option("--contacts", options.contacts, "multi-touch contacts offered (0: none)")->check(CLI::Range(0U, 16U));
    app.add_option("--focus-fd", options.focus_fd, "focus link socket inherited from twofold-manager");
    app.add_option("--xenstore-fd", options.xenstore_fd, "xenstore proxy socket inherited from twofold-manager");
    app.add_option("--log-level", options.log_level, "trace|debug|info|warn|error")->capture_default_str();
    confine::add_options(app, options.confine);
    CLI11_PARSE(app, argc, argv);
    try {
        return run(options);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "twofold-vkbd-backend: %s\n", e.what());
        return 1;
    }
}
