// twofold-modem-backend: one virtual AT modem per persona on its secondary PV console, over
// the one physical modem. Run by twofold-manager (--focus-fd) or standalone for the lab
// (--foreground). See docs/modem.md for the command line the board uses.
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <boost/asio/signal_set.hpp>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "twofold/confine/options.h"
#include "twofold/modem/backend/confinement.h"
#include "twofold/modem/backend/modem_backend.h"
#include "twofold/policy/loader.h"
#include "twofold/policy/report.h"
#include "twofold/xen/platform.h"
#include "twofold/xenbus/proxied_xenstore.h"

namespace {

using namespace twofold;

struct Options {
  std::string policy_file;
  std::vector<std::string> personas;
  std::string modem_tty;
  std::string modem_socket;
  unsigned baud = 115200;
  std::string number_key_file;
  int focus_fd = -1;
  std::optional<int> xenstore_fd; // the manager's xenstore proxy (no xenstored connection of our own)
  std::string foreground;
  std::string log_level = "info";
  unsigned tick_ms = 100;
  confine::Options confinement = confine::default_options("twofold-modem");
};

std::vector<std::uint8_t> read_key(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read --number-key " + path);
  std::vector<std::uint8_t> key((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return key;
}

int run(const Options& options) {
  auto log = spdlog::stderr_color_mt("modem");
  log->set_level(spdlog::level::from_str(options.log_level));

  auto loaded = policy::load_policy_file(options.policy_file);
  bool policy_errors = !loaded.policy.has_value();
  for (const auto& finding : loaded.findings) {
    if (finding.severity == policy::Severity::error) {
      policy_errors = true;
      log->error("{}", policy::format_human(finding));
    }
  }
  if (policy_errors) {
    log->error("--policy {}: refused (errors above)", options.policy_file);
    return 2;
  }
  std::vector<modem::backend::PersonaOption> personas;
  for (const auto& text : options.personas) {
    auto persona = modem::backend::parse_persona_option(text);
    if (!persona) {
      log->error("--persona {}: {}", text, persona.error().message);
      return 2;
    }
    personas.push_back(std::move(persona).value());
  }
  auto built = modem::backend::build_config(*loaded.policy, personas);
  if (!built) {
    log->error("{}", built.error().message);
    return 2;
  }
  for (const auto& name : built.value().skipped) log->info("persona {}: no [persona.modem] in the policy; no modem", name);
  modem::backend::ModemBackendConfig config = built.value().config;
  if (!options.foreground.empty()) config.foreground = options.foreground;
  config.tick = std::chrono::milliseconds(options.tick_ms);

  const auto logging = config.mediator.modem_policy.number_logging.value;
  std::vector<std::uint8_t> key;
  if (logging == policy::NumberLogging::hashed) {
    if (options.number_key_file.empty()) {
      log->error("the policy hashes numbers: --number-key FILE is required");
      return 2;
    }
    key = read_key(options.number_key_file);
  }
  modem::mediator::NumberRedactor redactor(logging, std::move(key));

  xen::UniqueFd modem_fd = options.modem_tty.empty() ? modem::backend::connect_modem_socket(options.modem_socket)
                                                     : modem::backend::open_modem_tty(options.modem_tty, options.baud);
  std::optional<xen::UniqueFd> focus_fd;
  if (options.focus_fd >= 0) focus_fd.emplace(options.focus_fd);

  std::unique_ptr<xen::Platform> platform = xen::make_real_platform();
  if (options.xenstore_fd) platform = xenbus::with_xenstore_proxy(std::move(platform), xen::UniqueFd(*options.xenstore_fd));
  modem::backend::ModemBackend backend(*platform, std::move(config), std::move(redactor), std::move(modem_fd),
                                       std::move(focus_fd), log);
  // Everything is open before confinement: the modem line, the focus link, Xen handles, the
  // xenstore connection and its watch thread (started by the first watch), the signal pipe.
  backend.start();
  boost::asio::signal_set signals(backend.io(), SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code&, int) { backend.stop(0); });
  const auto confined = confine::apply(options.confinement, modem::backend::modem_allowlist());
  if (confined.confined) {
    log->info("confined: user {}, seccomp {} ({} syscalls)", options.confinement.user,
              confine::to_string(options.confinement.mode), confined.seccomp.installed);
  } else {
    log->warn("running unconfined (--no-confine)");
  }
  backend.run();
  return backend.exit_code();
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"twofold modem backend: one virtual AT modem per persona over the physical modem"};
  Options options;
  app.add_option("--policy", options.policy_file, "persona policy file (its [modem] and [persona.modem] tables)")
      ->required();
  app.add_option("--persona", options.personas, "DOMAIN_NAME:secure|personal (repeatable)")->required();
  auto* tty = app.add_option("--modem-tty", options.modem_tty, "the modem's serial line (opened raw)");
  auto* socket = app.add_option("--modem-socket", options.modem_socket, "unix socket of twofold-modem-sim");
  tty->excludes(socket);
  app.add_option("--baud", options.baud, "serial line speed")->default_val(115200);
  app.add_option("--number-key", options.number_key_file, "key file for hashed numbers (>= 16 bytes)");
  app.add_option("--focus-fd", options.focus_fd, "the focus link's inherited fd (from twofold-manager)")
      ->check(CLI::Range(3, 65535));
  app.add_option("--xenstore-fd", options.xenstore_fd, "xenstore proxy socket inherited from twofold-manager");
  app.add_option("--foreground", options.foreground, "standalone: the persona incoming calls follow");
  app.add_option("--log-level", options.log_level, "trace|debug|info|warn|error")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error"}));
  app.add_option("--tick-ms", options.tick_ms, "timeout check interval")->check(CLI::Range(10U, 1000U));
  confine::add_options(app, options.confinement);
  CLI11_PARSE(app, argc, argv);
  if (options.modem_tty.empty() == options.modem_socket.empty()) {
    std::fprintf(stderr, "twofold-modem-backend: give exactly one of --modem-tty, --modem-socket\n");
    return 2;
  }
  if (options.focus_fd >= 0 && !options.foreground.empty()) {
    std::fprintf(stderr, "twofold-modem-backend: --foreground is for standalone runs (no --focus-fd)\n");
    return 2;
  }
  try {
    return run(options);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "twofold-modem-backend: %s\n", e.what());
    return 1;
  }
}
