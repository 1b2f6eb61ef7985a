#pragma once
// The modem backend process's wiring, apart from main() so that it runs on the loopback in
// tests: one BackendRuntime, a BackendService for `console` that serves devid 1 of each
// configured persona (backend setting name=modem, as the manager plumbs it), the Mediator
// between PersonaConsoles and the ModemLine, a steady timer for the mediator's timeouts,
// and the focus link (or a fixed foreground when standalone).
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/steady_timer.hpp>
#include <spdlog/logger.h>

#include "twofold/focus/focus_client.h"
#include "twofold/modem/backend/backend_config.h"
#include "twofold/modem/backend/modem_line.h"
#include "twofold/modem/backend/persona_consoles.h"
#include "twofold/modem/mediator/mediator.h"
#include "twofold/xen/platform.h"
#include "twofold/xenbus/backend_runtime.h"
#include "twofold/xenbus/backend_service.h"

namespace twofold::modem::backend {

// The console devid hvc_xen shows as /dev/hvc1, and the name the manager gives it.
inline constexpr std::uint32_t kModemConsoleDevid = 1;
inline constexpr std::string_view kModemConsoleName = "modem";

class ModemBackend {
 public:
  // `focus_fd` absent: standalone, foreground from the config. Throws for Xen failures.
  ModemBackend(xen::Platform& platform, ModemBackendConfig config, mediator::NumberRedactor redactor,
               xen::UniqueFd modem_fd, std::optional<xen::UniqueFd> focus_fd, std::shared_ptr<spdlog::logger> log);
  ~ModemBackend();
  ModemBackend(const ModemBackend&) = delete;
  ModemBackend& operator=(const ModemBackend&) = delete;

  void start();
  [[nodiscard]] boost::asio::io_context& io() noexcept { return runtime_.io(); }
  void run() { runtime_.run(); }
  // Stops the loop; exit_code() says why (0: asked to, or the manager went away).
  void stop(int exit_code = 0);
  [[nodiscard]] int exit_code() const noexcept { return exit_code_; }

  [[nodiscard]] const mediator::Mediator& mediator() const noexcept { return *mediator_; }
  [[nodiscard]] const PersonaConsoles& consoles() const noexcept { return consoles_; }
  [[nodiscard]] std::optional<mediator::PersonaIndex> foreground() const noexcept { return foreground_; }

 private:
  class AuditForwarder;

  std::unique_ptr<xenbus::Device> make_device(const xenbus::DevicePaths& paths);
  std::optional<std::string> apply_focus(const focus::Focus& order);
  std::optional<mediator::PersonaIndex> persona_index(std::string_view name) const;
  void arm_ticker();
  void after_mediator_work();

  std::shared_ptr<spdlog::logger> log_;
  std::vector<std::string> names_;
  ModemBackendConfig config_;
  xenbus::BackendRuntime runtime_;
  PersonaConsoles consoles_;
  ModemLine line_;
  std::unique_ptr<AuditForwarder> audit_;
  std::unique_ptr<mediator::Mediator> mediator_;
  std::unique_ptr<focus::FocusClient> focus_;
  xenbus::BackendService service_;
  boost::asio::steady_timer ticker_;
  std::optional<mediator::PersonaIndex> foreground_;
  int exit_code_ = 0;
};

}  // namespace twofold::modem::backend
