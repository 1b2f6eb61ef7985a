#pragma once
// The xenstore node tree with xenstored's access rules: per-node owner + ACL (dom0
// privileged), nodes created implicitly inheriting their parent's permissions (an
// unprivileged creator owns what it creates), a per-domain node quota for unprivileged
// domains, and the wire payload limit. Not thread-safe: XenStoreService serialises access.
#include <cstddef>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "twofold/loopback/hypervisor.h"
#include "twofold/xen/types.h"
#include "twofold/xen/xenstore.h"

namespace twofold::loopback::detail {

using Permissions = std::vector<xen::Permission>;

// What a mutation touched, for watch firing: the node and the permissions that decide who
// may see the event (the old ones for a removed node).
struct NodeChange {
    std::string path;
    Permissions perms;
    bool exact = false;                      // a removed descendant fires only watches set exactly on it
    std::optional<Permissions> old_perms{}; // after a permission change: who could see it before
};

class XenStoreTree {
public:
    explicit XenStoreTree(const Limits& limits);

    std::optional<std::string> read(xen::DomId who, const std::string& path) const;
    std::optional<std::vector<std::string>> list(xen::DomId who, const std::string& path) const;
    NodeChange write(xen::DomId who, const std::string& path, std::string_view value);
    // nullopt when the node already existed (xenstored does not fire then).
    std::optional<NodeChange> mkdir(xen::DomId who, const std::string& path);
    // Removed nodes, the node itself first; empty when it did not exist.
    std::vector<NodeChange> remove(xen::DomId who, const std::string& path);
    NodeChange set_permissions(xen::DomId who, const std::string& path, std::span<const xen::Permission> perms);
    std::optional<Permissions> get_permissions(xen::DomId who, const std::string& path) const;

    [[nodiscard]] static bool can_read(xen::DomId who, const Permissions& perms) noexcept;
    [[nodiscard]] std::size_t nodes_owned(xen::DomId domid) const;

private:
    struct Node {
        std::string value;
        Permissions perms;
        std::map<std::string, std::unique_ptr<Node>> children;
    };

    const Node* find(const std::vector<std::string>& parts) const;
    Node* find(const std::vector<std::string>& parts);
    // The node, or throws: EACCES when the caller lacks `want` on it, or on its nearest
    // existing ancestor when it does not exist (so probing cannot reveal hidden nodes);
    // returns nullptr for a missing node the caller could otherwise have accessed.
    const Node* access(xen::DomId who, const std::vector<std::string>& parts, xen::Permission::Kind want,
                       const char* operation) const;
    Node& create(xen::DomId who, const std::vector<std::string>& parts, const char* operation);
    void count_removed(const Node& node, const std::string& path, std::vector<NodeChange>& removed);

    Limits limits_;
    Node root_;
    std::map<xen::DomId, std::size_t> owned_; // nodes per owner, for the quota
};

} // namespace twofold::loopback::detail
