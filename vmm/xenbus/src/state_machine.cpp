#include "twofold/xenbus/state_machine.h"

#include <array>
#include <cstddef>

namespace twofold::xenbus {
namespace {

enum class Teardown : std::uint8_t { Never, IfOffline, Always };

struct Rule {
    std::optional<XenbusState> next; // nullopt: stay
    bool unbind = false;
    bool bind = false;
    Teardown teardown = Teardown::Never;
};

using S = XenbusState;
constexpr Rule kStay{.next = std::nullopt};
constexpr Rule kBind{.next = std::nullopt, .bind = true};
constexpr Rule kGone{.next = S::Closed, .teardown = Teardown::Always};
constexpr Rule kClosed{.next = S::Closed, .teardown = Teardown::IfOffline};
constexpr Rule kToClosing{.next = S::Closing};
constexpr Rule kToInitWait{.next = S::InitWait};
constexpr Rule kUnbindGone{.next = S::Closed, .unbind = true, .teardown = Teardown::Always};
constexpr Rule kUnbindClosed{.next = S::Closed, .unbind = true, .teardown = Teardown::IfOffline};
constexpr Rule kUnbindClosing{.next = S::Closing, .unbind = true};
constexpr Rule kUnbindReconnect{.next = S::InitWait, .unbind = true};

// Rows: the backend states we can be in. Columns: the frontend state, 0..8 as in xenbus.h
// (Unknown, Initialising, InitWait, Initialised, Connected, Closing, Closed, Reconfiguring,
// Reconfigured). Reconfiguring is not supported by our devices: ignored.
constexpr std::size_t kColumns = kMaxXenbusState + 1;
using Row = std::array<Rule, kColumns>;

constexpr Row kBeforeStart{kStay, kStay, kStay, kStay, kStay, kStay, kStay, kStay, kStay};
constexpr Row kInitWait{kGone, kStay, kStay, kBind, kBind, kToClosing, kClosed, kStay, kStay};
constexpr Row kConnected{kUnbindGone,   kUnbindReconnect, kUnbindReconnect, kStay, kStay,
                         kUnbindClosing, kUnbindClosed,   kStay,            kStay};
constexpr Row kClosing{kGone, kToInitWait, kToInitWait, kStay, kStay, kStay, kClosed, kStay, kStay};
constexpr Row kClosedRow{kGone, kToInitWait, kToInitWait, kStay, kStay, kStay, kClosed, kStay, kStay};

const Row& row_for(XenbusState backend) {
    switch (backend) {
    case S::InitWait: return kInitWait;
    case S::Connected: return kConnected;
    case S::Closing: return kClosing;
    case S::Closed: return kClosedRow;
    default: return kBeforeStart;
    }
}

} // namespace

Step XenbusStateMachine::apply(std::optional<XenbusState> next, bool unbind, bool bind, bool teardown) {
    Step step;
    step.unbind = unbind;
    step.bind = bind;
    step.teardown = teardown;
    if (next && *next != backend_) {
        backend_ = *next;
        step.write_backend = *next;
    }
    return step;
}

Step XenbusStateMachine::on_frontend_state(XenbusState frontend, bool device_online) {
    const Rule& rule = row_for(backend_)[static_cast<std::size_t>(frontend)];
    const bool teardown = rule.teardown == Teardown::Always || (rule.teardown == Teardown::IfOffline && !device_online);
    return apply(rule.next, rule.unbind, rule.bind, teardown);
}

Step XenbusStateMachine::on_device_event(DeviceEvent event) {
    switch (event) {
    case DeviceEvent::Start:
        if (backend_ == S::Initialising) return apply(S::InitWait, false, false, false);
        return {};
    case DeviceEvent::BindSucceeded:
        if (backend_ == S::InitWait) return apply(S::Connected, false, false, false);
        return {};
    case DeviceEvent::BindFailed:
        if (backend_ == S::InitWait) return apply(S::Closing, false, false, false);
        return {};
    case DeviceEvent::Failed:
        if (backend_ == S::Connected) return apply(S::Closing, true, false, false);
        if (backend_ == S::InitWait) return apply(S::Closing, false, false, false);
        return {};
    }
    return {};
}

} // namespace twofold::xenbus
