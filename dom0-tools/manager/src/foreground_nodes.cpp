#include "twofold/manager/foreground_nodes.h"

#include <array>
#include <exception>

#include <spdlog/spdlog.h>

namespace twofold::manager {

void ForegroundNodes::attach(const std::string& persona, xen::DomId domid, const std::string& place) {
    domids_[persona] = domid;
    written_.erase(persona);
    // A node dom0 creates under the guest's home inherits the guest as owner (xenstored), and a
    // node the guest made first is the guest's: the directory is made anew and given to dom0.
    const std::string dir = "/local/domain/" + std::to_string(domid) + "/twofold";
    const std::array perms{xen::Permission{xen::kDom0, xen::Permission::Kind::None},
                           xen::Permission{domid, xen::Permission::Kind::Read}};
    try {
        store_.remove(dir);
        store_.mkdir(dir);
        store_.set_permissions(dir, perms);
        store_.write(dir + "/foreground", place == persona ? "1" : "0");
        store_.set_permissions(dir + "/foreground", perms);
        written_[persona] = place == persona;
    } catch (const std::exception& e) {
        spdlog::warn("persona {}: cannot make {}: {}", persona, dir, e.what());
    }
}

void ForegroundNodes::foreground_is(const std::string& place) {
    for (const auto& [persona, domid] : domids_) {
        const bool in_front = place == persona;
        const auto was = written_.find(persona);
        if (was == written_.end() || was->second != in_front) write(persona, domid, in_front);
    }
}

void ForegroundNodes::write(const std::string& persona, xen::DomId domid, bool in_front) {
    const std::string path = "/local/domain/" + std::to_string(domid) + "/" + std::string(kForegroundNodeOfPersona);
    try {
        store_.write(path, in_front ? "1" : "0"); // keeps the permissions attach() gave
        written_[persona] = in_front;
    } catch (const std::exception& e) {
        // A persona that is going away; its next start attaches again.
        spdlog::warn("persona {}: cannot write {}: {}", persona, path, e.what());
        written_.erase(persona);
    }
}

} // namespace twofold::manager
