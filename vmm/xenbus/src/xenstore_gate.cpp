#include "twofold/xenbus/xenstore_gate.h"

#include <algorithm>
#include <cerrno>
#include <stdexcept>
#include <utility>

#include "twofold/xen/error.h"

namespace twofold::xenbus {
namespace {

// xenstored's rules for a path (tools/xenstore: is_valid_nodename), absolute only.
bool canonical(std::string_view path) {
    if (path.empty() || path.front() != '/') return false;
    if (path.size() > 1 && path.back() == '/') return false;
    if (path.find("//") != std::string_view::npos) return false;
    return std::all_of(path.begin(), path.end(), xen::is_xenstore_path_char);
}

bool at_or_below(std::string_view path, std::string_view dir) {
    return path == dir || (path.size() > dir.size() && path.starts_with(dir) && path[dir.size()] == '/');
}

bool reading(XenStoreOp op) {
    return op == XenStoreOp::Read || op == XenStoreOp::List || op == XenStoreOp::Watch || op == XenStoreOp::Unwatch;
}

std::string own_entry(const GateScope& scope) {
    return backend_type_dir(scope.backend, scope.type) + "/" + std::to_string(scope.frontend);
}

std::string op_name(XenStoreOp op) {
    switch (op) {
    case XenStoreOp::Read: return "xs_read";
    case XenStoreOp::Write: return "xs_write";
    case XenStoreOp::Mkdir: return "xs_mkdir";
    case XenStoreOp::Remove: return "xs_rm";
    case XenStoreOp::List: return "xs_directory";
    case XenStoreOp::SetPermissions: return "xs_set_permissions";
    case XenStoreOp::Watch: return "xs_watch";
    case XenStoreOp::Unwatch: return "xs_unwatch";
    }
    return "xs_op";
}

} // namespace

bool gate_admits(const GateScope& scope, XenStoreOp op, std::string_view path) {
    if (path == "@releaseDomain") return op == XenStoreOp::Watch || op == XenStoreOp::Unwatch;
    if (!canonical(path)) return false;
    // Permissions are the toolstack's (the manager's pv_devices): a backend sets none.
    if (op == XenStoreOp::SetPermissions) return false;
    const std::string entry = own_entry(scope);
    if (at_or_below(path, entry)) return true;
    if (path == backend_type_dir(scope.backend, scope.type)) {
        return op == XenStoreOp::List || op == XenStoreOp::Watch || op == XenStoreOp::Unwatch;
    }
    if (!reading(op)) return false;
    const std::string domain = domain_path(scope.frontend);
    if (at_or_below(path, domain + "/device/" + std::string(to_string(scope.type)))) return true;
    if (scope.type == DeviceType::Console && at_or_below(path, domain + "/console")) return true;
    return op == XenStoreOp::Read && (path == domain || path == domain + "/name");
}

XenStoreGate::XenStoreGate(std::unique_ptr<xen::XenStore> inner, GateScope scope)
    : inner_(std::move(inner)), scope_(scope) {
    if (scope_.frontend == scope_.backend || scope_.frontend >= xen::kFirstReservedDomId ||
        scope_.backend >= xen::kFirstReservedDomId) {
        throw std::invalid_argument("XenStoreGate: the frontend must be a guest other than the backend's domain");
    }
}

void XenStoreGate::require(XenStoreOp op, const std::string& path) const {
    if (!gate_admits(scope_, op, path)) {
        throw xen::XenError(EACCES, op_name(op) + " " + path + " (outside the backend's own paths)");
    }
}

std::optional<std::string> XenStoreGate::read(const std::string& path) {
    require(XenStoreOp::Read, path);
    return inner_->read(path);
}

void XenStoreGate::write(const std::string& path, std::string_view value) {
    require(XenStoreOp::Write, path);
    inner_->write(path, value);
}

void XenStoreGate::mkdir(const std::string& path) {
    require(XenStoreOp::Mkdir, path);
    inner_->mkdir(path);
}

void XenStoreGate::remove(const std::string& path) {
    require(XenStoreOp::Remove, path);
    inner_->remove(path);
}

std::vector<std::string> XenStoreGate::list(const std::string& path) {
    require(XenStoreOp::List, path);
    if (path != backend_type_dir(scope_.backend, scope_.type)) return inner_->list(path);
    // The type directory names every persona this backend domain serves: answer with ours.
    const std::string mine = std::to_string(scope_.frontend);
    for (const auto& name : inner_->list(path)) {
        if (name == mine) return {name};
    }
    return {};
}

void XenStoreGate::set_permissions(const std::string& path, std::span<const xen::Permission> perms) {
    require(XenStoreOp::SetPermissions, path);
    inner_->set_permissions(path, perms);
}

std::optional<std::vector<xen::Permission>> XenStoreGate::get_permissions(const std::string& path) {
    require(XenStoreOp::Read, path);
    return inner_->get_permissions(path);
}

void XenStoreGate::watch(const std::string& path, const std::string& token) {
    require(XenStoreOp::Watch, path);
    inner_->watch(path, token);
}

void XenStoreGate::unwatch(const std::string& path, const std::string& token) {
    require(XenStoreOp::Unwatch, path);
    inner_->unwatch(path, token);
}

std::vector<xen::WatchEvent> XenStoreGate::take_watch_events() {
    auto events = inner_->take_watch_events();
    const std::string type_dir = backend_type_dir(scope_.backend, scope_.type);
    std::erase_if(events, [&](const xen::WatchEvent& event) {
        // The watched type directory itself still fires (its registration event, and a
        // change that may be ours); a node below it must be in our own entry.
        if (event.path == "@releaseDomain" || event.path == type_dir) return false;
        return !gate_admits(scope_, XenStoreOp::Read, event.path);
    });
    return events;
}

} // namespace twofold::xenbus
