#pragma once
// The backend half of the xenbus handshake (xen/io/xenbus.h) for one frontend, as a pure
// table: inputs are the frontend's state and the outcome of our own bind, outputs are the
// backend state to write and what to do (bind, unbind, tear the handler down). No I/O here,
// so every (backend state, input) pair is unit-tested.
//
// Reconnect: a frontend that goes back to Initialising (reboot, kexec, driver reload) finds
// us releasing the old ring and waiting again in InitWait. A Closed frontend tears the
// handler down only when the toolstack has taken the device offline (Linux backends do the
// same with xenbus_dev_is_online); an online device waits for the frontend to come back.
#include <cstdint>
#include <optional>

#include "twofold/xenbus/xenstore_values.h"

namespace twofold::xenbus {

enum class DeviceEvent : std::uint8_t {
    Start,         // the handler is ready: announce InitWait
    BindSucceeded, // rings mapped, port bound, device accepted them
    BindFailed,    // a frontend value was refused or a mapping failed (nothing stays bound)
    Failed,        // the device or the frontend broke the protocol while connected
};

struct Step {
    bool unbind = false;                      // first: release rings and ports
    std::optional<XenbusState> write_backend; // then: publish our new state
    bool bind = false;                        // then: map and bind, and report the outcome
    bool teardown = false;                    // last: the owner destroys this handler

    friend bool operator==(const Step&, const Step&) = default;
};

class XenbusStateMachine {
public:
    [[nodiscard]] XenbusState backend_state() const noexcept { return backend_; }

    Step on_frontend_state(XenbusState frontend, bool device_online);
    Step on_device_event(DeviceEvent event);

private:
    Step apply(std::optional<XenbusState> next, bool unbind, bool bind, bool teardown);

    XenbusState backend_ = XenbusState::Initialising;
};

} // namespace twofold::xenbus
