#include "xenstore_tree.h"

#include <cerrno>

#include "twofold/xen/error.h"
#include "xenstore_path.h"

namespace twofold::loopback::detail {
namespace {

using Kind = xen::Permission::Kind;

Kind effective(xen::DomId who, const Permissions& perms) noexcept {
    if (who == xen::kDom0 || perms.front().domid == who) {
        return Kind::ReadWrite;
    }
    for (std::size_t i = 1; i < perms.size(); ++i) {
        if (perms[i].domid == who) {
            return perms[i].kind;
        }
    }
    return perms.front().kind;
}

bool allows(Kind have, Kind want) noexcept {
    switch (want) {
    case Kind::None:
        return true;
    case Kind::Read:
        return have == Kind::Read || have == Kind::ReadWrite;
    case Kind::Write:
        return have == Kind::Write || have == Kind::ReadWrite;
    case Kind::ReadWrite:
        return have == Kind::ReadWrite;
    }
    return false;
}

} // namespace

XenStoreTree::XenStoreTree(const Limits& limits) : limits_(limits) {
    root_.perms = {xen::Permission{xen::kDom0, Kind::None}};
    ++owned_[xen::kDom0];
}

bool XenStoreTree::can_read(xen::DomId who, const Permissions& perms) noexcept {
    return allows(effective(who, perms), Kind::Read);
}

std::size_t XenStoreTree::nodes_owned(xen::DomId domid) const {
    auto found = owned_.find(domid);
    return found == owned_.end() ? 0 : found->second;
}

const XenStoreTree::Node* XenStoreTree::find(const std::vector<std::string>& parts) const {
    const Node* node = &root_;
    for (const auto& part : parts) {
        auto child = node->children.find(part);
        if (child == node->children.end()) {
            return nullptr;
        }
        node = child->second.get();
    }
    return node;
}

XenStoreTree::Node* XenStoreTree::find(const std::vector<std::string>& parts) {
    return const_cast<Node*>(static_cast<const XenStoreTree*>(this)->find(parts));
}

const XenStoreTree::Node* XenStoreTree::access(xen::DomId who, const std::vector<std::string>& parts, Kind want,
                                               const char* operation) const {
    const Node* node = &root_;
    bool missing = false;
    for (const auto& part : parts) {
        auto child = node->children.find(part);
        if (child == node->children.end()) {
            missing = true;
            break;
        }
        node = child->second.get();
    }
    if (!allows(effective(who, node->perms), want)) {
        throw xen::XenError(EACCES, operation);
    }
    return missing ? nullptr : node;
}

std::optional<std::string> XenStoreTree::read(xen::DomId who, const std::string& path) const {
    validate_path(path, "xs_read");
    const Node* node = access(who, split_path(path), Kind::Read, "xs_read");
    if (node == nullptr) {
        return std::nullopt;
    }
    return node->value;
}

std::optional<Permissions> XenStoreTree::get_permissions(xen::DomId who, const std::string& path) const {
    validate_path(path, "xs_get_permissions");
    const Node* node = access(who, split_path(path), Kind::Read, "xs_get_permissions");
    if (node == nullptr) {
        return std::nullopt;
    }
    return node->perms;
}

std::optional<std::vector<std::string>> XenStoreTree::list(xen::DomId who, const std::string& path) const {
    validate_path(path, "xs_directory");
    const Node* node = access(who, split_path(path), Kind::Read, "xs_directory");
    if (node == nullptr) {
        return std::nullopt;
    }
    std::vector<std::string> names;
    names.reserve(node->children.size());
    for (const auto& [name, child] : node->children) {
        names.push_back(name);
    }
    return names;
}

XenStoreTree::Node& XenStoreTree::create(xen::DomId who, const std::vector<std::string>& parts,
                                         const char* operation) {
    Node* node = &root_;
    std::size_t depth = 0;
    while (depth < parts.size()) {
        auto child = node->children.find(parts[depth]);
        if (child == node->children.end()) {
            break;
        }
        node = child->second.get();
        ++depth;
    }
    const std::size_t missing = parts.size() - depth;
    if (missing == 0) {
        return *node;
    }
    // Quota first, so a refused write creates nothing.
    if (who != xen::kDom0 && nodes_owned(who) + missing > limits_.max_nodes_per_domain) {
        throw xen::XenError(EDQUOT, operation);
    }
    for (; depth < parts.size(); ++depth) {
        auto child = std::make_unique<Node>();
        child->perms = node->perms;
        if (who != xen::kDom0) {
            child->perms.front().domid = who;
        }
        ++owned_[child->perms.front().domid];
        Node* raw = child.get();
        node->children.emplace(parts[depth], std::move(child));
        node = raw;
    }
    return *node;
}

NodeChange XenStoreTree::write(xen::DomId who, const std::string& path, std::string_view value) {
    validate_path(path, "xs_write");
    if (path.size() + 1 + value.size() > kMaxPayload) {
        throw xen::XenError(E2BIG, "xs_write");
    }
    const auto parts = split_path(path);
    access(who, parts, Kind::Write, "xs_write");
    Node& node = create(who, parts, "xs_write");
    node.value.assign(value);
    return {path, node.perms, false};
}

std::optional<NodeChange> XenStoreTree::mkdir(xen::DomId who, const std::string& path) {
    validate_path(path, "xs_mkdir");
    const auto parts = split_path(path);
    if (access(who, parts, Kind::Write, "xs_mkdir") != nullptr) {
        return std::nullopt;
    }
    Node& node = create(who, parts, "xs_mkdir");
    return NodeChange{path, node.perms, false};
}

void XenStoreTree::count_removed(const Node& node, const std::string& path, std::vector<NodeChange>& removed) {
    --owned_[node.perms.front().domid];
    removed.push_back({path, node.perms, true});
    for (const auto& [name, child] : node.children) {
        count_removed(*child, path + "/" + name, removed);
    }
}

std::vector<NodeChange> XenStoreTree::remove(xen::DomId who, const std::string& path) {
    validate_path(path, "xs_rm");
    if (path == "/") {
        throw xen::XenError(EINVAL, "xs_rm");
    }
    const auto parts = split_path(path);
    if (access(who, parts, Kind::Write, "xs_rm") == nullptr) {
        return {};
    }
    Node* parent = find(std::vector<std::string>(parts.begin(), parts.end() - 1));
    auto entry = parent->children.find(parts.back());
    std::vector<NodeChange> removed;
    count_removed(*entry->second, path, removed);
    removed.front().exact = false; // the removed node itself also fires watches above it
    parent->children.erase(entry);
    return removed;
}

NodeChange XenStoreTree::set_permissions(xen::DomId who, const std::string& path,
                                         std::span<const xen::Permission> perms) {
    validate_path(path, "xs_set_permissions");
    if (perms.empty()) {
        throw xen::XenError(EINVAL, "xs_set_permissions");
    }
    for (const auto& perm : perms) {
        if (perm.domid >= xen::kFirstReservedDomId) {
            throw xen::XenError(EINVAL, "xs_set_permissions");
        }
    }
    const auto parts = split_path(path);
    Node* node = find(parts);
    if (node == nullptr) {
        access(who, parts, Kind::Write, "xs_set_permissions");
        throw xen::XenError(ENOENT, "xs_set_permissions");
    }
    // Only the owner (or dom0) may change permissions, and only dom0 may give a node away.
    if (who != xen::kDom0 && node->perms.front().domid != who) {
        throw xen::XenError(EACCES, "xs_set_permissions");
    }
    if (who != xen::kDom0 && perms.front().domid != who) {
        throw xen::XenError(EPERM, "xs_set_permissions");
    }
    Permissions old = node->perms;
    --owned_[old.front().domid];
    ++owned_[perms.front().domid];
    node->perms.assign(perms.begin(), perms.end());
    // Watchers who could see the node before or after both learn of the change.
    return NodeChange{path, node->perms, false, std::move(old)};
}

} // namespace twofold::loopback::detail
