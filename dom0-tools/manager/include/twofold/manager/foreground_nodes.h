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
#include <optional>
#include <string>

#include "twofold/xen/types.h"
#include "twofold/xen/xenstore.h"

namespace twofold::manager {

class ForegroundNodes {
public:
    explicit ForegroundNodes(xen::XenStore& store) : store_(store) {}

    // A (re)started secure persona: its node is made and written at once for `place`, the
    // current foreground (a persona's name or dom0's prompt).
    void attach(const std::string& persona, xen::DomId domid, const std::string& place);
    // The foreground settled on `place`: rewrites every node whose value changed.
    void foreground_is(const std::string& place);

private:
    struct Node {
        xen::DomId domid{};
        std::optional<bool> written; // nullopt: not written (or the last write failed)
    };
    void write(const std::string& persona, Node& node, bool in_front);

    xen::XenStore& store_;
    std::map<std::string, Node> nodes_;
};

} // namespace twofold::manager
