#include "twofold/manager/domain_control.h"

#include <array>
#include <utility>

namespace twofold::manager {

LibvirtDomain::LibvirtDomain(DomainControl& control, std::string name) : control_(&control), name_(std::move(name)) {}

DomainInfo LibvirtDomain::info() const {
    auto found = control_->find(name_);
    if (!found) {
        throw LibvirtError("domain '" + name_ + "' no longer exists");
    }
    return std::move(*found);
}

void LibvirtDomain::start() { control_->start(name_); }
void LibvirtDomain::start_paused() { control_->start_paused(name_); }
void LibvirtDomain::resume() { control_->resume(name_); }
void LibvirtDomain::shutdown() { control_->shutdown(name_); }
void LibvirtDomain::destroy() { control_->destroy(name_); }
void LibvirtDomain::undefine() { control_->undefine(name_); }
std::string LibvirtDomain::xml() const { return control_->xml(name_); }
std::string LibvirtDomain::uuid() const { return control_->uuid(name_); }

std::optional<LibvirtDomain> DomainControl::lookup(const std::string& name) {
    if (!find(name)) {
        return std::nullopt;
    }
    return LibvirtDomain(*this, name);
}

LibvirtDomain DomainControl::define(const std::string& xml) {
    auto info = define_xml(xml);
    return LibvirtDomain(*this, std::move(info.name));
}

namespace {
constexpr std::array kStates{DomainState::Running, DomainState::Paused, DomainState::ShutOff, DomainState::Crashed,
                             DomainState::Other};
} // namespace

const char* to_string(DomainState state) noexcept {
    switch (state) {
    case DomainState::Running: return "running";
    case DomainState::Paused: return "paused";
    case DomainState::ShutOff: return "shut-off";
    case DomainState::Crashed: return "crashed";
    case DomainState::Other: return "other";
    }
    return "other";
}

std::optional<DomainState> parse_domain_state(std::string_view text) noexcept {
    for (const auto s : kStates) {
        if (text == to_string(s)) {
            return s;
        }
    }
    return std::nullopt;
}

} // namespace twofold::manager
