#pragma once
// The xenstore a backend serving one persona may see (issue 14, item 2) *(library)*: a
// XenStore that admits only that backend's own paths and refuses everything else with
// EACCES, as xenstored would for an unprivileged connection. It is the policy half of the
// per-backend xenstore proxy (docs/architecture.md, "A backend serving one persona"): the
// privileged side wraps its connection in a gate and serves the restricted backend through
// it; the wire between them is not built yet.
//
// Admitted, for backend domain B, frontend domain F and device type T:
//   /local/domain/B/backend/T/F and below  read, write, mkdir, remove, list, watch (its own
//                                          device directories; never their permissions)
//   /local/domain/B/backend/T              list, answered with F alone if F's entry exists;
//                                          watch, with events for other domains dropped
//   /local/domain/F/device/T and below     read, list, watch (the frontend's nodes)
//   /local/domain/F/console and below      the same, for T = console (libxl's first console)
//   /local/domain/F, /local/domain/F/name  read (is the domain alive, which persona is it)
//   @releaseDomain                         watch
// Paths must be absolute and canonical by xenstored's rules (no relative path, which
// xenstored would resolve against dom0's home, no "//", no trailing "/", charset
// [A-Za-z0-9-/_@]); anything else is refused before it reaches the store.
#include <memory>
#include <string>
#include <string_view>

#include "twofold/xen/xenstore.h"
#include "twofold/xenbus/device_paths.h"

namespace twofold::xenbus {

struct GateScope {
    xen::DomId backend = xen::kDom0; // the backends' domain (dom0)
    xen::DomId frontend{};           // the one persona served
    DeviceType type{};
};

enum class XenStoreOp { Read, Write, Mkdir, Remove, List, SetPermissions, Watch, Unwatch };

// The decision alone (no store): whether `op` on `path` is admitted for `scope`.
[[nodiscard]] bool gate_admits(const GateScope& scope, XenStoreOp op, std::string_view path);

class XenStoreGate final : public xen::XenStore {
public:
    // Throws std::invalid_argument for a reserved or dom0 frontend domid.
    XenStoreGate(std::unique_ptr<xen::XenStore> inner, GateScope scope);

    std::optional<std::string> read(const std::string& path) override;
    void write(const std::string& path, std::string_view value) override;
    void mkdir(const std::string& path) override;
    void remove(const std::string& path) override;
    std::vector<std::string> list(const std::string& path) override;
    void set_permissions(const std::string& path, std::span<const xen::Permission> perms) override;
    // Reading a node's permissions is reading the node (xenstored asks read access for both).
    std::optional<std::vector<xen::Permission>> get_permissions(const std::string& path) override;
    void watch(const std::string& path, const std::string& token) override;
    void unwatch(const std::string& path, const std::string& token) override;
    [[nodiscard]] int watch_fd() const override { return inner_->watch_fd(); }
    // Events below a watched directory that concern another domain (the backend type
    // directory lists every persona's entries) are dropped.
    std::vector<xen::WatchEvent> take_watch_events() override;

private:
    void require(XenStoreOp op, const std::string& path) const;

    std::unique_ptr<xen::XenStore> inner_;
    GateScope scope_;
};

} // namespace twofold::xenbus
