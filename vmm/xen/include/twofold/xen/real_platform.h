#pragma once
// The real Xen access layer (dom0 on the board): one RAII class per Xen library handle and the
// interface implementations built on them. Backends normally see only make_real_platform();
// these are public for the lab tests and for diagnostics (mapping counts).
#include <atomic>
#include <cstddef>
#include <memory>

#include "twofold/xen/event_channel.h"
#include "twofold/xen/memory.h"
#include "twofold/xen/platform.h"
#include "twofold/xen/xenstore.h"

// The C libraries' handle types (tags of the typedefs in xenstore.h, xenevtchn.h, xengnttab.h,
// xenforeignmemory.h), so this header does not pull the C headers into every backend.
struct xs_handle;
struct xenevtchn_handle;
struct xengntdev_handle;
struct xenforeignmemory_handle;

namespace twofold::xen {

// xs_open / xs_close. Opened with XS_UNWATCH_FILTER: no event of a removed watch is seen.
class XsHandle {
public:
    XsHandle();
    ~XsHandle();
    XsHandle(const XsHandle&) = delete;
    XsHandle& operator=(const XsHandle&) = delete;
    XsHandle(XsHandle&&) = delete;
    XsHandle& operator=(XsHandle&&) = delete;
    [[nodiscard]] xs_handle* get() const noexcept { return handle_; }

private:
    xs_handle* handle_;
};

// xenevtchn_open / xenevtchn_close; its fd is made non-blocking.
class EvtchnHandle {
public:
    EvtchnHandle();
    ~EvtchnHandle();
    EvtchnHandle(const EvtchnHandle&) = delete;
    EvtchnHandle& operator=(const EvtchnHandle&) = delete;
    EvtchnHandle(EvtchnHandle&&) = delete;
    EvtchnHandle& operator=(EvtchnHandle&&) = delete;
    [[nodiscard]] xenevtchn_handle* get() const noexcept { return handle_; }

private:
    xenevtchn_handle* handle_;
};

// xengnttab_open / xengnttab_close.
class GnttabHandle {
public:
    GnttabHandle();
    ~GnttabHandle();
    GnttabHandle(const GnttabHandle&) = delete;
    GnttabHandle& operator=(const GnttabHandle&) = delete;
    GnttabHandle(GnttabHandle&&) = delete;
    GnttabHandle& operator=(GnttabHandle&&) = delete;
    [[nodiscard]] xengntdev_handle* get() const noexcept { return handle_; }
    // Makes the handle unusable without closing it under a concurrent user: /dev/null goes
    // over its descriptor, so every later grant ioctl fails (ENOTTY). Linux's gntdev cannot be
    // limited to one domain, so a restricted process keeps none (RealPlatform::restrict_to).
    void cut();

private:
    xengntdev_handle* handle_;
};

// xenforeignmemory_open / xenforeignmemory_close.
class ForeignMemoryHandle {
public:
    ForeignMemoryHandle();
    ~ForeignMemoryHandle();
    ForeignMemoryHandle(const ForeignMemoryHandle&) = delete;
    ForeignMemoryHandle& operator=(const ForeignMemoryHandle&) = delete;
    ForeignMemoryHandle(ForeignMemoryHandle&&) = delete;
    ForeignMemoryHandle& operator=(ForeignMemoryHandle&&) = delete;
    [[nodiscard]] xenforeignmemory_handle* get() const noexcept { return handle_; }

private:
    xenforeignmemory_handle* handle_;
};

class RealXenStore final : public XenStore {
public:
    RealXenStore();
    std::optional<std::string> read(const std::string& path) override;
    void write(const std::string& path, std::string_view value) override;
    void mkdir(const std::string& path) override;
    void remove(const std::string& path) override;
    std::vector<std::string> list(const std::string& path) override;
    void set_permissions(const std::string& path, std::span<const Permission> perms) override;
    std::optional<std::vector<Permission>> get_permissions(const std::string& path) override;
    void watch(const std::string& path, const std::string& token) override;
    void unwatch(const std::string& path, const std::string& token) override;
    [[nodiscard]] int watch_fd() const override;
    std::vector<WatchEvent> take_watch_events() override;

private:
    XsHandle handle_;
    int watch_fd_;
};

class RealEventChannel final : public EventChannel {
public:
    RealEventChannel() = default;
    Port bind_interdomain(DomId remote, Port remote_port) override;
    Port bind_unbound(DomId remote) override;
    void unbind(Port local) override;
    void notify(Port local) override;
    [[nodiscard]] int fd() const override;
    std::optional<Port> pending() override;
    void unmask(Port local) override;
    // IOCTL_EVTCHN_RESTRICT_DOMID: the kernel binds this handle's ports to `domid` only.
    void restrict_to(DomId domid);

private:
    EvtchnHandle handle_;
};

// Live mappings made through one mapper, shared with the releasers of its MappedPages.
class MappingCount {
public:
    void add() noexcept { count_.fetch_add(1, std::memory_order_relaxed); }
    void remove() noexcept { count_.fetch_sub(1, std::memory_order_relaxed); }
    [[nodiscard]] std::size_t value() const noexcept { return count_.load(std::memory_order_relaxed); }

private:
    std::atomic<std::size_t> count_{0};
};

// Mappings keep the gnttab handle open (xengnttab_unmap needs it), so a MappedPages may
// outlive the mapper that made it.
class RealGrantMapper final : public GrantMapper {
public:
    RealGrantMapper();
    explicit RealGrantMapper(std::shared_ptr<GnttabHandle> handle);
    MappedPages map(DomId domid, std::span<const GrantRef> refs, Access access) override;
    [[nodiscard]] std::size_t live_mappings() const noexcept { return count_->value(); }

private:
    std::shared_ptr<GnttabHandle> handle_;
    std::shared_ptr<MappingCount> count_;
};

class RealForeignMemory final : public ForeignMemory {
public:
    RealForeignMemory();
    MappedPages map(DomId domid, std::span<const Gfn> frames, Access access) override;
    [[nodiscard]] std::size_t live_mappings() const noexcept { return count_->value(); }
    // IOCTL_PRIVCMD_RESTRICT: the kernel maps frames of `domid` only through this handle, and
    // refuses every other privcmd hypercall on it.
    void restrict_to(DomId domid);

private:
    std::shared_ptr<ForeignMemoryHandle> handle_;
    std::shared_ptr<MappingCount> count_;
};

// Limit on pages per map call: a backend never needs more, and the count reaches the C API
// as an unsigned int.
inline constexpr std::size_t kMaxPagesPerMap = 4096;

} // namespace twofold::xen
