#include "twofold/xen/real_platform.h"

#include <cerrno>
#include <mutex>
#include <vector>

extern "C" {
#include <xentoolcore.h>
}

#include "twofold/xen/error.h"

namespace twofold::xen {
namespace {

// Opens each library only when a backend asks for it: a display backend that never maps
// foreign memory never opens privcmd.
class RealPlatform final : public Platform {
public:
    explicit RealPlatform(DomId own_domid) : own_domid_(own_domid) {}
    [[nodiscard]] DomId own_domid() const override { return own_domid_; }

    std::unique_ptr<XenStore> open_xenstore() override {
        refuse_if_restricted("xs_open");
        return std::make_unique<RealXenStore>();
    }
    std::unique_ptr<EventChannel> open_event_channel() override {
        auto channel = std::make_unique<RealEventChannel>();
        if (const auto domid = restricted_to()) channel->restrict_to(*domid);
        return channel;
    }
    std::unique_ptr<GrantMapper> open_grant_mapper() override {
        refuse_if_restricted("xengnttab_open");
        auto handle = std::make_shared<GnttabHandle>();
        {
            const std::scoped_lock lock(mutex_);
            std::erase_if(grant_handles_, [](const std::weak_ptr<GnttabHandle>& open) { return open.expired(); });
            grant_handles_.push_back(handle);
        }
        return std::make_unique<RealGrantMapper>(std::move(handle));
    }
    std::unique_ptr<ForeignMemory> open_foreign_memory() override {
        auto memory = std::make_unique<RealForeignMemory>();
        if (const auto domid = restricted_to()) memory->restrict_to(*domid);
        return memory;
    }

    void restrict_to(DomId domid) override {
        const std::scoped_lock lock(mutex_);
        if (domid == kDom0 || domid >= kFirstReservedDomId || (restricted_ && *restricted_ != domid)) {
            throw XenError(EINVAL, "restrict_to " + std::to_string(domid));
        }
        // libxentoolcore knows every Xen library handle of the process, including ones this
        // platform did not open: event-channel and privcmd handles are restricted by the kernel,
        // and the xenstore connection gets /dev/null over its socket.
        if (::xentoolcore_restrict_all(domid) < 0) throw_errno("xentoolcore_restrict_all");
        // libxengnttab does not take part in it in every version: cut the grant handles here.
        for (const auto& open : grant_handles_) {
            if (const auto handle = open.lock()) handle->cut();
        }
        grant_handles_.clear();
        restricted_ = domid;
    }

    [[nodiscard]] std::optional<DomId> restricted_to() const override {
        const std::scoped_lock lock(mutex_);
        return restricted_;
    }

private:
    void refuse_if_restricted(const char* operation) const {
        if (restricted_to()) throw XenError(EPERM, std::string(operation) + " (restricted to one domain)");
    }

    const DomId own_domid_;
    mutable std::mutex mutex_;
    std::optional<DomId> restricted_;
    // The grant handles this platform opened and that are still alive (cut at restriction).
    std::vector<std::weak_ptr<GnttabHandle>> grant_handles_;
};

} // namespace

std::unique_ptr<Platform> make_real_platform(DomId own_domid) { return std::make_unique<RealPlatform>(own_domid); }

} // namespace twofold::xen
