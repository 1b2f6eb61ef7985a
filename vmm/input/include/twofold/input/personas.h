#pragma once
// The configured personas (--persona NAME:secure|personal) and which of them a frontend
// domain is. The toolstack names each domain (/local/domain/<id>/name, dom0-owned); the name
// is still parsed against the fixed set, so an unknown domain gets no input at all. Resolving
// at each discovery means a restarted persona (new domid) is found again by name.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "twofold/input/router.h"
#include "twofold/xen/types.h"
#include "twofold/xen/xenstore.h"
#include "twofold/xenbus/result.h"

namespace twofold::input {

enum class Trust : unsigned char { Secure, Personal };

struct PersonaConfig {
    std::string name;
    Trust trust = Trust::Personal;
};

xenbus::Result<PersonaConfig> parse_persona_option(std::string_view text);

class Personas {
public:
    // Throws std::invalid_argument for empty, invalid (focus-link name rules) or repeated names.
    explicit Personas(std::vector<PersonaConfig> personas);

    [[nodiscard]] std::size_t size() const noexcept { return personas_.size(); }
    [[nodiscard]] const PersonaConfig& at(PersonaId id) const { return personas_.at(id); }
    [[nodiscard]] std::optional<PersonaId> by_name(std::string_view name) const;
    [[nodiscard]] std::optional<PersonaId> for_domain(xen::XenStore& store, xen::DomId domid) const;

private:
    std::vector<PersonaConfig> personas_;
};

} // namespace twofold::input
