#pragma once
// Xenstore access. Paths passed here are always built by dom0 code from validated numbers and
// constant names (never from guest-written strings); values read back are untrusted and must
// be parsed (vmm/xenbus/ has the validated parsers).
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "twofold/xen/types.h"

namespace twofold::xen {

// A character xenstored allows in a node path (tools/xenstore: is_valid_nodename); '/' and '@'
// included, so callers that mean one component or a non-special path exclude those themselves.
[[nodiscard]] constexpr bool is_xenstore_path_char(char c) noexcept {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '/' ||
           c == '_' || c == '@';
}

struct WatchEvent {
    std::string path;  // the node that changed (may be below the watched path)
    std::string token; // the token given to watch()
};

// xenstore permission entry. As in xenstored, the first entry names the owner and gives the
// access of every domain not listed later.
struct Permission {
    enum class Kind { None, Read, Write, ReadWrite };
    DomId domid{};
    Kind kind{Kind::None};
};

class XenStore {
public:
    virtual ~XenStore() = default;

    // nullopt when the node does not exist; other failures throw XenError.
    virtual std::optional<std::string> read(const std::string& path) = 0;
    virtual void write(const std::string& path, std::string_view value) = 0;
    virtual void mkdir(const std::string& path) = 0;
    // Removes the node and its children; a missing node is not an error.
    virtual void remove(const std::string& path) = 0;
    // Child names (not full paths); empty when the node does not exist.
    virtual std::vector<std::string> list(const std::string& path) = 0;
    virtual void set_permissions(const std::string& path, std::span<const Permission> perms) = 0;
    // The node's permissions, owner first; nullopt when the node does not exist. Needs read
    // access to the node, as in xenstored.
    virtual std::optional<std::vector<Permission>> get_permissions(const std::string& path) = 0;

    // Watches fire once on registration (as in xenstored) and then on every change at or
    // below path. Events are queued; watch_fd() becomes readable while any are pending.
    virtual void watch(const std::string& path, const std::string& token) = 0;
    virtual void unwatch(const std::string& path, const std::string& token) = 0;
    [[nodiscard]] virtual int watch_fd() const = 0;
    // Non-blocking: returns the pending events (possibly none) and clears readability.
    virtual std::vector<WatchEvent> take_watch_events() = 0;
};

} // namespace twofold::xen
