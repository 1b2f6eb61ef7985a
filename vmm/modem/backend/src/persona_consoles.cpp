#include "twofold/modem/backend/persona_consoles.h"

#include <algorithm>

namespace twofold::modem::backend {

PersonaConsoles::PersonaConsoles(std::vector<std::string> persona_names, LogFunction log)
    : names_(std::move(persona_names)), log_(std::move(log)), endpoints_(names_.size()) {}

xenbus::Result<void> PersonaConsoles::attach(mediator::PersonaIndex persona, std::span<std::byte> page,
                                             const xen::BoundPort& port) {
  if (persona >= endpoints_.size()) return xenbus::Error{"no such persona"};
  // One modem console per persona: a second domain claiming the same name (a stale entry of
  // a restarted persona) must not share, or take over, the live one.
  if (endpoints_[persona]) return xenbus::Error{"persona " + names_[persona] + " already has a modem console"};
  endpoints_[persona].emplace(Endpoint{mediator::ConsoleChannel(page), &port, std::nullopt});
  log_("modem console of " + names_[persona] + " connected");
  pump(persona, mediator::ConsoleChannel::kDefaultMaxReads);
  return {};
}

void PersonaConsoles::detach(mediator::PersonaIndex persona) noexcept {
  if (persona >= endpoints_.size() || !endpoints_[persona]) return;
  endpoints_[persona].reset();
  try {
    log_("modem console of " + names_[persona] + " disconnected");
  } catch (...) {
    // Logging is best effort while tearing down.
  }
}

bool PersonaConsoles::attached(mediator::PersonaIndex persona) const {
  return persona < endpoints_.size() && endpoints_[persona].has_value() && !endpoints_[persona]->fault;
}

void PersonaConsoles::mark_faulted(mediator::PersonaIndex persona, rings::RingFault fault) {
  Endpoint& endpoint = *endpoints_[persona];
  if (endpoint.fault) return;
  endpoint.fault = fault;
  log_("modem console of " + names_[persona] + ": ring fault (" + std::string(rings::describe(fault)) +
       "); no longer served");
}

xenbus::ServiceOutcome PersonaConsoles::pump(mediator::PersonaIndex persona, std::size_t max_reads) {
  xenbus::ServiceOutcome outcome;
  if (mediator_ == nullptr || persona >= endpoints_.size() || !endpoints_[persona]) return outcome;
  Endpoint& endpoint = *endpoints_[persona];
  if (endpoint.fault) {
    outcome.error = "console ring: " + std::string(rings::describe(*endpoint.fault));
    return outcome;
  }
  const auto result = endpoint.channel.pump(*mediator_, persona, Clock::now(), max_reads);
  if (result.fault) {
    mark_faulted(persona, *result.fault);
    outcome.error = "console ring: " + std::string(rings::describe(*result.fault));
    return outcome;
  }
  // Reading freed room in `out`: hvc_xen waits for this notification before writing more.
  endpoint.port->notify();
  flush(persona);
  outcome.more_pending = result.more_pending;
  outcome.processed = 1;
  return outcome;
}

xenbus::ServiceOutcome PersonaConsoles::service(mediator::PersonaIndex persona, std::size_t budget) {
  // The budget counts ring reads of at most ConsoleChannel::kReadBudget bytes each.
  return pump(persona, std::clamp<std::size_t>(budget, 1, mediator::ConsoleChannel::kDefaultMaxReads));
}

void PersonaConsoles::pump_all() {
  for (mediator::PersonaIndex p = 0; p < endpoints_.size(); ++p) {
    if (endpoints_[p] && !endpoints_[p]->fault) (void)pump(p, mediator::ConsoleChannel::kDefaultMaxReads);
  }
}

void PersonaConsoles::to_persona(mediator::PersonaIndex persona, std::string_view bytes) {
  if (persona >= endpoints_.size() || !endpoints_[persona] || endpoints_[persona]->fault) {
    // Nobody is listening (console not connected yet, or the guest broke its ring).
    dropped_without_console_ += bytes.size();
    return;
  }
  endpoints_[persona]->channel.queue_output(bytes);
  flush(persona);
}

void PersonaConsoles::flush(mediator::PersonaIndex persona) {
  Endpoint& endpoint = *endpoints_[persona];
  if (endpoint.fault) return;
  const std::size_t before = endpoint.channel.pending_output();
  if (auto fault = endpoint.channel.flush_output()) {
    mark_faulted(persona, *fault);
    return;
  }
  if (endpoint.channel.pending_output() != before) endpoint.port->notify();
}

}  // namespace twofold::modem::backend
