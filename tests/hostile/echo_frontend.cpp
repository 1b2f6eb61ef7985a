#include "echo_frontend.h"

#include <algorithm>
#include <cstring>
#include <stdexcept>

namespace twofold::hostile {

using xenbus::XenbusState;

EchoFrontend::EchoFrontend(loopback::Hypervisor& hypervisor, xenbus::testing::Toolstack& toolstack,
                           const std::string& name)
    : hypervisor_(hypervisor), toolstack_(toolstack), domain_(hypervisor, name),
      paths_(xen::kDom0, domain_.domid(), xenbus::DeviceType::Echo, 0) {}

void EchoFrontend::prepare() {
    toolstack_.add_device(paths_);
    ring_ = domain_.share_ring(hypervisor_, paths_);
    front_.emplace(ring_.view.bytes());
}

void EchoFrontend::connect(xenbus::testing::LoopbackBackend& backend) {
    prepare();
    domain_.set_state(paths_, XenbusState::Initialised);
    const bool connected =
        backend.run_until([&] { return backend_state() == xenbus::to_xenstore(XenbusState::Connected); });
    if (!connected) throw std::runtime_error("echo frontend: backend did not connect");
    domain_.set_state(paths_, XenbusState::Connected);
}

bool EchoFrontend::send_raw(const EchoRequest& request) {
    if (!front_->put_request(request)) return false;
    if (front_->push_requests()) notify();
    return true;
}

bool EchoFrontend::send(std::uint32_t id, std::string_view text, std::uint8_t op) {
    EchoRequest request{};
    request.id = id;
    request.op = op;
    const auto len = std::min(text.size(), kMaxEchoData);
    request.len = static_cast<std::uint8_t>(len);
    std::memcpy(request.data, text.data(), len);
    return send_raw(request);
}

void EchoFrontend::notify() { domain_.events().notify(ring_.port); }

std::vector<EchoResponse> EchoFrontend::take_responses() {
    std::vector<EchoResponse> responses;
    std::optional<rings::RingFault> fault;
    do {
        while (auto response = front_->take_response(fault)) responses.push_back(*response);
    } while (!fault && front_->final_check_for_responses());
    return responses;
}

std::optional<EchoResponse> EchoFrontend::round_trip(xenbus::testing::LoopbackBackend& backend, std::string_view text,
                                                     std::chrono::milliseconds timeout) {
    const auto id = next_id_++;
    if (!send(id, text)) return std::nullopt;
    std::optional<EchoResponse> found;
    backend.run_until(
        [&] {
            for (const auto& response : take_responses()) {
                if (response.id == id) found = response;
            }
            return found.has_value();
        },
        timeout);
    return found;
}

std::string EchoFrontend::backend_state() { return toolstack_.read(paths_.backend_node("state")); }

std::string payload(const EchoResponse& response) {
    return std::string(reinterpret_cast<const char*>(response.data), std::min<std::size_t>(response.len, kMaxEchoData));
}

} // namespace twofold::hostile
