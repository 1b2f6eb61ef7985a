#pragma once
// Each persona's modem endpoint while its console is connected: the ConsoleChannel on the
// mapped page and the port to notify. It is the mediator's PersonaPort (answers go into the
// persona's `in` ring, or nowhere while it has no console) and moves guest bytes into the
// mediator with a bounded number of reads per wake, so one persona's flood cannot hold the
// thread the other persona's console is served on.
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "twofold/modem/backend/console_device.h"
#include "twofold/modem/mediator/console_channel.h"
#include "twofold/modem/mediator/mediator.h"

namespace twofold::modem::backend {

class PersonaConsoles final : public ConsoleEndpoints, public mediator::PersonaPort {
 public:
  using Clock = mediator::Mediator::Clock;
  using LogFunction = std::function<void(const std::string&)>;

  PersonaConsoles(std::vector<std::string> persona_names, LogFunction log);

  // The mediator is built after its ports; until this is called nothing is pumped.
  void set_mediator(mediator::Mediator& mediator) { mediator_ = &mediator; }

  xenbus::Result<void> attach(mediator::PersonaIndex persona, std::span<std::byte> page,
                              const xen::BoundPort& port) override;
  xenbus::ServiceOutcome service(mediator::PersonaIndex persona, std::size_t budget) override;
  void detach(mediator::PersonaIndex persona) noexcept override;

  void to_persona(mediator::PersonaIndex persona, std::string_view bytes) override;

  // After the mediator made room (a job finished, a timeout): feed what the rings hold.
  void pump_all();

  [[nodiscard]] bool attached(mediator::PersonaIndex persona) const;
  [[nodiscard]] std::uint64_t dropped_without_console() const noexcept { return dropped_without_console_; }

 private:
  struct Endpoint {
    mediator::ConsoleChannel channel;
    const xen::BoundPort* port;
    std::optional<rings::RingFault> fault;  // set once; the endpoint is then left alone
  };
  // Pumps one endpoint; returns the outcome for the xenbus service loop.
  xenbus::ServiceOutcome pump(mediator::PersonaIndex persona, std::size_t max_reads);
  void flush(mediator::PersonaIndex persona);
  void mark_faulted(mediator::PersonaIndex persona, rings::RingFault fault);

  std::vector<std::string> names_;
  LogFunction log_;
  std::vector<std::optional<Endpoint>> endpoints_;
  mediator::Mediator* mediator_ = nullptr;
  std::uint64_t dropped_without_console_ = 0;
};

}  // namespace twofold::modem::backend
