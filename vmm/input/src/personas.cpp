#include "twofold/input/personas.h"

#include <stdexcept>

#include "twofold/focus/focus_protocol.h"
#include "twofold/xen/error.h"
#include "twofold/xenbus/device_paths.h"
#include "twofold/xenbus/xenstore_values.h"

namespace twofold::input {

xenbus::Result<PersonaConfig> parse_persona_option(std::string_view text) {
    const auto colon = text.rfind(':');
    if (colon == std::string_view::npos || colon == 0) return xenbus::Error{"expected NAME:secure or NAME:personal"};
    const std::string_view kind = text.substr(colon + 1);
    PersonaConfig config{std::string(text.substr(0, colon)), Trust::Personal};
    if (!focus::is_valid_name(config.name)) return xenbus::Error{"persona name must match [a-z][a-z0-9-]{0,31}"};
    if (kind == "secure") {
        config.trust = Trust::Secure;
    } else if (kind != "personal") {
        return xenbus::Error{"persona kind must be secure or personal"};
    }
    return config;
}

Personas::Personas(std::vector<PersonaConfig> personas) : personas_(std::move(personas)) {
    for (std::size_t i = 0; i < personas_.size(); ++i) {
        if (!focus::is_valid_name(personas_[i].name)) throw std::invalid_argument("invalid persona name");
        for (std::size_t j = 0; j < i; ++j) {
            if (personas_[j].name == personas_[i].name) {
                throw std::invalid_argument("persona listed twice: " + personas_[i].name);
            }
        }
    }
}

std::optional<PersonaId> Personas::by_name(std::string_view name) const {
    for (std::size_t i = 0; i < personas_.size(); ++i) {
        if (personas_[i].name == name) return i;
    }
    return std::nullopt;
}

std::optional<PersonaId> Personas::for_domain(xen::XenStore& store, xen::DomId domid) const {
    std::optional<std::string> untrusted_name;
    try {
        untrusted_name = store.read(xenbus::domain_path(domid) + "/name");
    } catch (const xen::XenError&) {
        return std::nullopt; // the domain went away
    }
    if (!untrusted_name) return std::nullopt;
    std::vector<std::string_view> allowed;
    allowed.reserve(personas_.size());
    for (const auto& persona : personas_) allowed.emplace_back(persona.name);
    const auto chosen = xenbus::parse_name_in_set(*untrusted_name, allowed);
    if (!chosen) return std::nullopt;
    return chosen.value().index;
}

} // namespace twofold::input
