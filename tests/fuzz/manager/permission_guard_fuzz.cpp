// Input: byte 0 = the persona's domid (1..255), byte 1 = how many permission entries follow
// (pairs of domid byte + kind byte), the rest a watch event's path as xenstored would report it.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "twofold/manager/xenstore_permission_guard.h"

using twofold::xen::Permission;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 2) return 0;
    const auto persona = static_cast<twofold::xen::DomId>(data[0] == 0 ? 1 : data[0]);
    const std::size_t count = data[1] % 8;
    std::size_t at = 2;
    std::vector<Permission> perms;
    for (std::size_t i = 0; i < count && at + 1 < size; ++i, at += 2) {
        perms.push_back({static_cast<twofold::xen::DomId>(data[at] % 4), static_cast<Permission::Kind>(data[at + 1] % 4)});
    }
    if (const auto closed = twofold::manager::closed_permissions(persona, perms)) {
        // Closed: the owner first with no access for others, then dom0's entries only; and stable.
        if (closed->empty() || closed->front().domid != persona || closed->front().kind != Permission::Kind::None) std::abort();
        for (std::size_t i = 1; i < closed->size(); ++i) {
            if ((*closed)[i].domid != 0) std::abort();
        }
        if (twofold::manager::closed_permissions(persona, *closed)) std::abort();
    }
    (void)twofold::manager::describe(perms);
    const std::string_view path(reinterpret_cast<const char*>(data + at), size - at);
    if (twofold::manager::in_persona_subtree(persona, path)) {
        const std::string home = "/local/domain/" + std::to_string(persona);
        if (!path.starts_with(home) || (path.size() > home.size() && path[home.size()] != '/')) std::abort();
        for (const char c : path) {
            if (c == '\0' || c == ' ' || c == '\n' || c == '.') std::abort();
        }
    }
    return 0;
}
