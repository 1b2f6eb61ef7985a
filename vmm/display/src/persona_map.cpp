#include "twofold/display/persona_map.h"

#include <algorithm>
#include <stdexcept>

#include "twofold/xen/error.h"
#include "twofold/xenbus/device_paths.h"
#include "twofold/xenbus/xenstore_values.h"

namespace twofold::display {

PersonaMap::PersonaMap(Compositor& compositor, const std::vector<PersonaConfig>& personas) {
    for (const PersonaConfig& persona : personas) {
        if (persona.domain_name.empty() || persona.domain_name.size() > xenbus::kMaxNameLength) {
            throw std::invalid_argument("persona domain name empty or too long");
        }
        if (std::find(names_.begin(), names_.end(), persona.domain_name) != names_.end()) {
            throw std::invalid_argument("persona domain name listed twice: " + persona.domain_name);
        }
        names_.push_back(persona.domain_name);
        ids_.push_back(compositor.add_persona(persona.label));
    }
}

std::optional<PersonaId> PersonaMap::by_name(std::string_view domain_name) const {
    const auto it = std::find(names_.begin(), names_.end(), domain_name);
    if (it == names_.end()) return std::nullopt;
    return ids_[static_cast<std::size_t>(it - names_.begin())];
}

std::string_view PersonaMap::name_of(PersonaId persona) const noexcept {
    const auto it = std::find(ids_.begin(), ids_.end(), persona);
    if (it == ids_.end()) return {};
    return names_[static_cast<std::size_t>(it - ids_.begin())];
}

std::optional<PersonaId> PersonaMap::for_domain(xen::XenStore& store, xen::DomId domid) const {
    std::optional<std::string> untrusted_name;
    try {
        untrusted_name = store.read(xenbus::domain_path(domid) + "/name");
    } catch (const xen::XenError&) {
        return std::nullopt; // the domain went away
    }
    if (!untrusted_name) return std::nullopt;
    std::vector<std::string_view> allowed(names_.begin(), names_.end());
    const auto chosen = xenbus::parse_name_in_set(*untrusted_name, allowed);
    if (!chosen) return std::nullopt;
    return ids_[chosen.value().index];
}

xenbus::Result<PersonaConfig> parse_persona_option(std::string_view text) {
    const auto colon = text.rfind(':');
    if (colon == std::string_view::npos || colon == 0) {
        return xenbus::Error{"expected NAME:secure or NAME:personal"};
    }
    const std::string_view trust = text.substr(colon + 1);
    PersonaConfig config;
    config.domain_name = std::string(text.substr(0, colon));
    config.label.name = config.domain_name;
    if (trust == "secure") {
        config.label.trust = Trust::Secure;
    } else if (trust == "personal") {
        config.label.trust = Trust::Personal;
    } else {
        return xenbus::Error{"trust level must be secure or personal"};
    }
    return config;
}

} // namespace twofold::display
