#pragma once
// Everything one simulated machine is made of. Handles and mappings hold shared pointers to
// the parts they use, so they stay valid after the Hypervisor object is gone.
#include <memory>

#include "event_channels.h"
#include "machine.h"
#include "twofold/loopback/hypervisor.h"
#include "xenstore_service.h"

namespace twofold::loopback::detail {

struct Core {
    explicit Core(const Limits& limits)
        : machine(std::make_shared<Machine>(limits)),
          event_channels(std::make_shared<EventChannelHub>(limits, machine)),
          xenstore(std::make_shared<XenStoreService>(limits)) {}

    std::shared_ptr<Machine> machine;
    std::shared_ptr<EventChannelHub> event_channels;
    std::shared_ptr<XenStoreService> xenstore;
};

} // namespace twofold::loopback::detail
