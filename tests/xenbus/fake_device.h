#pragma once
// A scripted Device for the machinery's unit tests: records what the connection did to it.
#include <cstddef>
#include <memory>
#include <string>

#include "twofold/xenbus/device.h"

namespace twofold::xenbus::testing {

struct FakeDeviceScript {
    // knobs
    bool refuse_bind = false;
    ServiceOutcome outcome{};
    RingSpec spec{};
    std::vector<std::pair<std::string, std::string>> nodes;
    // observations
    int binds = 0;
    int events = 0;
    int closings = 0;
    std::size_t last_budget = 0;
    std::size_t ring_size = 0;
    bool holding_ring = false;
};

class FakeDevice final : public Device {
public:
    explicit FakeDevice(std::shared_ptr<FakeDeviceScript> script) : script_(std::move(script)) {}
    [[nodiscard]] RingSpec ring_spec() const override { return script_->spec; }
    [[nodiscard]] std::vector<std::pair<std::string, std::string>> backend_nodes() const override {
        return script_->nodes;
    }
    Result<void> on_bind(const BindContext& context) override {
        ++script_->binds;
        script_->ring_size = context.ring.size();
        if (script_->refuse_bind) return Error{"scripted refusal"};
        script_->holding_ring = true;
        return {};
    }
    ServiceOutcome on_event(std::size_t budget) override {
        ++script_->events;
        script_->last_budget = budget;
        return script_->outcome;
    }
    void on_closing() noexcept override {
        ++script_->closings;
        script_->holding_ring = false;
    }

private:
    std::shared_ptr<FakeDeviceScript> script_;
};

} // namespace twofold::xenbus::testing
