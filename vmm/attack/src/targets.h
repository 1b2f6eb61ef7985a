#pragma once
// What the attack aims at: a persona's domid and the numbers its vkbd frontend published
// (frame, grant, event channel). Read by the root parent before any child confines, as an
// attacker would know or guess them; parsed like any guest-written value.
#include <optional>
#include <string>

#include "twofold/xen/types.h"

struct xs_handle;

namespace twofold::attack {

struct Persona {
    std::string name;
    xen::DomId domid{};
    std::optional<xen::Gfn> vkbd_frame;      // device/vkbd/0/page-ref
    std::optional<xen::GrantRef> vkbd_grant; // device/vkbd/0/page-gref
    std::optional<xen::Port> vkbd_port;      // device/vkbd/0/event-channel
    [[nodiscard]] std::string frontend_dir() const;
};

// Finds the running domain called `name`; nullopt when there is none.
std::optional<Persona> find_persona(xs_handle* store, const std::string& name);

} // namespace twofold::attack
