#include "twofold/modem/backend/backend_config.h"

#include <algorithm>
#include <stdexcept>

#include "twofold/modem/mediator/urc_router.h"

namespace twofold::modem::backend {

xenbus::Result<PersonaOption> parse_persona_option(std::string_view text) {
  const auto colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0) return xenbus::Error{"expected NAME:secure or NAME:personal"};
  PersonaOption option;
  option.name = std::string(text.substr(0, colon));
  const std::string_view kind = text.substr(colon + 1);
  if (kind == "secure") {
    option.kind = policy::PersonaKind::secure;
  } else if (kind == "personal") {
    option.kind = policy::PersonaKind::personal;
  } else {
    return xenbus::Error{"kind must be secure or personal"};
  }
  return option;
}

xenbus::Result<BuiltConfig> build_config(const policy::Policy& policy, const std::vector<PersonaOption>& personas) {
  BuiltConfig built;
  std::vector<std::string> seen;
  for (const PersonaOption& option : personas) {
    if (std::find(seen.begin(), seen.end(), option.name) != seen.end()) {
      return xenbus::Error{"persona " + option.name + " listed twice"};
    }
    seen.push_back(option.name);
    const policy::Persona* persona = policy.find_persona(option.name);
    if (persona == nullptr) return xenbus::Error{"persona " + option.name + " is not in the policy"};
    if (persona->kind.value != option.kind) {
      return xenbus::Error{"persona " + option.name + ": kind differs from the policy's"};
    }
    auto rights = mediator::PersonaRights::from_policy(*persona);
    if (!rights) {
      built.skipped.push_back(option.name);
      continue;
    }
    built.config.mediator.personas.push_back(std::move(*rights));
  }
  if (built.config.mediator.personas.empty()) return xenbus::Error{"no listed persona has a [persona.modem] table"};
  built.config.mediator.modem_policy = policy.modem;
  // A route to a persona this backend does not serve would ring nowhere: refuse the start
  // rather than route a call to the wrong persona.
  std::vector<std::string> names;
  for (const auto& rights : built.config.mediator.personas) names.push_back(rights.name);
  try {
    (void)mediator::IncomingRouter(policy.modem, names);
  } catch (const std::invalid_argument& e) {
    return xenbus::Error{std::string("[modem] routes: ") + e.what()};
  }
  return built;
}

}  // namespace twofold::modem::backend
