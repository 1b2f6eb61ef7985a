#pragma once
// A simulated guest driving the echo device: its own domain, xenstore handle, event channel,
// granted ring page and ring.h front ring. Well-behaved by default; tests make it hostile
// by writing its shared page and xenstore nodes directly.
#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "echo_device.h"
#include "twofold/rings/front_ring.h"
#include "twofold/xenbus_test/loopback_backend.h"

namespace twofold::hostile {

using EchoFrontRing = rings::FrontRing<EchoRequest, EchoResponse>;

class EchoFrontend {
public:
    EchoFrontend(loopback::Hypervisor& hypervisor, xenbus::testing::Toolstack& toolstack, const std::string& name);

    // Toolstack entry, ring shared, Initialised; waits for the backend to connect, then Connected.
    void connect(xenbus::testing::LoopbackBackend& backend);
    // Only the toolstack entry and the shared ring (nodes published), state still Initialising.
    void prepare();

    // Queues one request and pushes it, notifying when the hold-off asks for it.
    bool send(std::uint32_t id, std::string_view text, std::uint8_t op = kEchoOp);
    bool send_raw(const EchoRequest& request);
    void notify();
    std::vector<EchoResponse> take_responses();
    // Sends and runs the backend until the matching response arrives.
    std::optional<EchoResponse> round_trip(xenbus::testing::LoopbackBackend& backend, std::string_view text,
                                           std::chrono::milliseconds timeout = std::chrono::milliseconds(5000));

    [[nodiscard]] xen::DomId domid() const noexcept { return domain_.domid(); }
    [[nodiscard]] const xenbus::DevicePaths& paths() const noexcept { return paths_; }
    [[nodiscard]] xenbus::testing::FrontendDomain& domain() noexcept { return domain_; }
    [[nodiscard]] std::span<std::byte> shared() const noexcept { return ring_.view.bytes(); }
    [[nodiscard]] EchoFrontRing& front() { return *front_; }
    [[nodiscard]] std::string backend_state();

private:
    loopback::Hypervisor& hypervisor_;
    xenbus::testing::Toolstack& toolstack_;
    xenbus::testing::FrontendDomain domain_;
    xenbus::DevicePaths paths_;
    xenbus::testing::SharedRing ring_;
    std::optional<EchoFrontRing> front_;
    std::uint32_t next_id_ = 1;
};

// Text of an echo response's payload.
std::string payload(const EchoResponse& response);

} // namespace twofold::hostile
