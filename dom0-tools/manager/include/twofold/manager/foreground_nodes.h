#pragma once
// Tells each secure persona whether it is the one on screen, so that its messenger sends a read
// marker only for a message a person can have seen (docs/messaging.md, "Read markers").
//
// dom0 writes /local/domain/<domid>/twofold/foreground: "1" while the persona is in front, "0"
// otherwise (another persona, or dom0's PIN prompt). The node is dom0's (a guest-made node of
// that name is removed first) and the persona may only read it.
//
// Personal personas get no node on purpose: "0" would tell them when the secure persona is
// being used. The flow it opens (the user's switches, never anything the personal persona does)
// goes only toward the secure persona.
#include <map>
#include <string>
#include <string_view>

#include "twofold/xen/types.h"
#include "twofold/xen/xenstore.h"

namespace twofold::manager {

// The node, relative to the persona's home.
inline constexpr std::string_view kForegroundNodeOfPersona = "twofold/foreground";

class ForegroundNodes {
public:
    explicit ForegroundNodes(xen::XenStore& store) : store_(store) {}

    // A (re)started secure persona: its node is written at once for `place`, the current
    // foreground (a persona's name or dom0's prompt).
    void attach(const std::string& persona, xen::DomId domid, const std::string& place);
    void forget(const std::string& persona) { domids_.erase(persona); }
    // The foreground settled on `place`: rewrites every node whose value changed.
    void foreground_is(const std::string& place);

private:
    void write(const std::string& persona, xen::DomId domid, bool in_front);

    xen::XenStore& store_;
    std::map<std::string, xen::DomId> domids_;
    std::map<std::string, bool> written_;
};

} // namespace twofold::manager
