#include "twofold/xenbus/node_reader.h"

namespace twofold::xenbus {

Result<std::string> NodeReader::read_untrusted(std::string_view name) const {
    const auto path = path_of(name);
    try {
        auto value = store_->read(path);
        if (!value) return Error{path + ": missing"};
        return std::move(*value);
    } catch (const xen::XenError& e) {
        // A guest can make its own nodes unreadable (permissions): that is its error, not ours.
        return Error{path + ": " + e.what()};
    }
}

bool NodeReader::exists(std::string_view name) const {
    try {
        return store_->read(path_of(name)).has_value();
    } catch (const xen::XenError&) {
        return true; // present but unreadable: read() will report it
    }
}

} // namespace twofold::xenbus
