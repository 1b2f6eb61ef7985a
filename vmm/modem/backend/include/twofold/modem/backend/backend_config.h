#pragma once
// What the modem backend serves, decided from the command line and the persona policy: the
// personas (by the domain name the toolstack gives them), each persona's rights from its
// [persona.modem] table, the [modem] routes and number logging. Nothing here is guest data;
// a configuration error is reported once at start, never guessed around.
#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "twofold/modem/mediator/mediator.h"
#include "twofold/policy/policy.h"
#include "twofold/xenbus/asio_event_channel.h"
#include "twofold/xenbus/result.h"

namespace twofold::modem::backend {

// --persona NAME:secure|personal (the contract every backend shares).
struct PersonaOption {
  std::string name;  // the persona's policy name = its domain name in xenstore
  policy::PersonaKind kind = policy::PersonaKind::personal;
};
xenbus::Result<PersonaOption> parse_persona_option(std::string_view text);

struct ModemBackendConfig {
  // MediatorConfig::personas in PersonaIndex order; only personas with a [persona.modem]
  // table are listed (the others get no modem console at all).
  mediator::MediatorConfig mediator;
  // Standalone focus (no --focus-fd): the persona that incoming calls follow.
  std::optional<std::string> foreground;
  // How often the mediator's timeouts are checked.
  std::chrono::milliseconds tick{100};
  std::size_t budget_per_wake = xenbus::kDefaultBudgetPerWake;
};

// Builds the configuration for the personas given on the command line. Refused: a persona
// missing from the policy, a kind that differs from the policy's, a persona listed twice, a
// route the mediator could not resolve. A listed persona without [persona.modem] is left out
// (`skipped` names it, for the log).
struct BuiltConfig {
  ModemBackendConfig config;
  std::vector<std::string> skipped;
};
xenbus::Result<BuiltConfig> build_config(const policy::Policy& policy, const std::vector<PersonaOption>& personas);

}  // namespace twofold::modem::backend
