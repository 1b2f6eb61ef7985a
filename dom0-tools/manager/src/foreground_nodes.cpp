#include "twofold/manager/foreground_nodes.h"

#include <array>
#include <exception>

#include <spdlog/spdlog.h>

namespace twofold::manager {
namespace {

std::string dir_of(xen::DomId domid) { return "/local/domain/" + std::to_string(domid) + "/twofold"; }
std::string node_of(xen::DomId domid) { return dir_of(domid) + "/foreground"; }

} // namespace

void ForegroundNodes::attach(const std::string& persona, xen::DomId domid, const std::string& place) {
    Node& node = nodes_[persona] = Node{domid, std::nullopt};
    // A node dom0 creates under the guest's home inherits the guest as owner (xenstored), and a
    // node the guest made first is the guest's: the directory is made anew and given to dom0.
    const std::array perms{xen::Permission{xen::kDom0, xen::Permission::Kind::None},
                           xen::Permission{domid, xen::Permission::Kind::Read}};
    try {
        store_.remove(dir_of(domid));
        store_.mkdir(dir_of(domid));
        store_.set_permissions(dir_of(domid), perms);
        write(persona, node, place == persona);
        store_.set_permissions(node_of(domid), perms);
    } catch (const std::exception& e) {
        spdlog::warn("persona {}: cannot make {}: {}", persona, dir_of(domid), e.what());
        node.written.reset();
    }
}

void ForegroundNodes::foreground_is(const std::string& place) {
    for (auto& [persona, node] : nodes_) {
        const bool in_front = place == persona;
        if (node.written != in_front) write(persona, node, in_front);
    }
}

void ForegroundNodes::write(const std::string& persona, Node& node, bool in_front) {
    try {
        store_.write(node_of(node.domid), in_front ? "1" : "0"); // keeps the permissions attach() gave
        node.written = in_front;
    } catch (const std::exception& e) {
        // A persona that is going away; its next start attaches again.
        spdlog::warn("persona {}: cannot write {}: {}", persona, node_of(node.domid), e.what());
        node.written.reset();
    }
}

} // namespace twofold::manager
