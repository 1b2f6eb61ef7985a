#include "twofold/xen/real_platform.h"

namespace twofold::xen {
namespace {

// Opens each library only when a backend asks for it: a display backend that never maps
// foreign memory never opens privcmd.
class RealPlatform final : public Platform {
public:
    explicit RealPlatform(DomId own_domid) : own_domid_(own_domid) {}
    [[nodiscard]] DomId own_domid() const override { return own_domid_; }
    std::unique_ptr<XenStore> open_xenstore() override { return std::make_unique<RealXenStore>(); }
    std::unique_ptr<EventChannel> open_event_channel() override { return std::make_unique<RealEventChannel>(); }
    std::unique_ptr<GrantMapper> open_grant_mapper() override { return std::make_unique<RealGrantMapper>(); }
    std::unique_ptr<ForeignMemory> open_foreign_memory() override { return std::make_unique<RealForeignMemory>(); }

private:
    const DomId own_domid_;
};

} // namespace

std::unique_ptr<Platform> make_real_platform(DomId own_domid) { return std::make_unique<RealPlatform>(own_domid); }

} // namespace twofold::xen
