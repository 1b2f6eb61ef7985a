#pragma once
// Strict JSON objects for the manager's line protocols (control socket, libvirt broker): a
// field the reader does not know is refused, so a peer cannot smuggle meaning past a version.
#include <initializer_list>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace twofold::manager {

// False, with the first unknown key in `unknown`, if `object` has a key outside `known`.
inline bool only_known_keys(const nlohmann::json& object, std::initializer_list<std::string_view> known,
                            std::string& unknown) {
    for (const auto& [key, value] : object.items()) {
        bool found = false;
        for (const auto k : known) {
            found = found || key == k;
        }
        if (!found) {
            unknown = key;
            return false;
        }
    }
    return true;
}

} // namespace twofold::manager
