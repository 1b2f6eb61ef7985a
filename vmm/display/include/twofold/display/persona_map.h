#pragma once
// Which persona a vfb frontend belongs to. The toolstack names each domain
// (/local/domain/<id>/name, owned by dom0, read-only to the guest); the configured personas
// list the domain names they run as. The name is still parsed against that fixed set, so an
// unexpected domain gets no display at all rather than a guessed one.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "twofold/display/compositor.h"
#include "twofold/xen/xenstore.h"

namespace twofold::display {

struct PersonaConfig {
    std::string domain_name; // as the toolstack names the domain
    PersonaLabel label;
};

class PersonaMap {
public:
    // Registers every persona with the compositor, in order. Throws std::invalid_argument for
    // duplicate or empty domain names (a configuration error).
    PersonaMap(Compositor& compositor, const std::vector<PersonaConfig>& personas);

    // The persona of a frontend domain, or nullopt (unknown, unnamed, or gone).
    [[nodiscard]] std::optional<PersonaId> for_domain(xen::XenStore& store, xen::DomId domid) const;
    [[nodiscard]] std::optional<PersonaId> by_name(std::string_view domain_name) const;
    // The domain name a persona was configured with ("" for an id this map did not register).
    [[nodiscard]] std::string_view name_of(PersonaId persona) const noexcept;

private:
    std::vector<std::string> names_;
    std::vector<PersonaId> ids_;
};

// "name:secure" / "name:personal" (the --persona option); the label shows the name.
xenbus::Result<PersonaConfig> parse_persona_option(std::string_view text);

} // namespace twofold::display
