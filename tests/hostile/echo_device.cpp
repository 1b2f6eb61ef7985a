#include "echo_device.h"

#include <cstring>
#include <stdexcept>
#include <string>

#include "twofold/rings/fault.h"

namespace twofold::hostile {

xenbus::Result<void> EchoDevice::on_bind(const xenbus::BindContext& context) {
    if (EchoBackRing::entries_for(context.ring.size()) == 0) return xenbus::Error{"ring too small"};
    ring_.emplace(context.ring);
    port_ = &context.port;
    return {};
}

xenbus::ServiceOutcome EchoDevice::on_event(std::size_t budget) {
    if (!ring_) return {};
    const auto result = ring_->process(budget, [this](const EchoRequest& request, EchoResponse& response) noexcept {
        handle(request, response, *stats_);
    });
    auto seen = stats_->max_batch.load();
    while (result.processed > seen && !stats_->max_batch.compare_exchange_weak(seen, result.processed)) {
    }
    xenbus::ServiceOutcome outcome{result.processed, result.more_pending, {}};
    if (result.fault) {
        outcome.error = "ring fault: " + std::string(rings::describe(*result.fault));
        return outcome;
    }
    if (result.notify) port_->notify();
    return outcome;
}

void EchoDevice::on_closing() noexcept {
    ring_.reset();
    port_ = nullptr;
}

void EchoDevice::handle(const EchoRequest& request, EchoResponse& response, EchoStats& stats) noexcept {
    response.id = request.id;
    if (request.op != kEchoOp) {
        response.status = kEchoNotSupported;
        ++stats.error_responses;
        return;
    }
    if (request.len > kMaxEchoData) {
        response.status = kEchoInvalid;
        ++stats.error_responses;
        return;
    }
    // Deliberately the natural code, reading request fields more than once: that is safe only
    // because `request` is the ring's private copy. Were it shared memory, a rewriting guest
    // could change len after the check (overflow, caught by ASan) or the bytes between the
    // copy and the checksum (counted as a torn read).
    response.len = request.len;
    std::memcpy(response.data, request.data, request.len);
    std::uint32_t sum = 0;
    for (std::size_t i = 0; i < response.len; ++i) sum += request.data[i];
    response.checksum = sum;
    std::uint32_t echoed = 0;
    for (std::size_t i = 0; i < response.len; ++i) echoed += response.data[i];
    if (echoed != sum || response.len != request.len) ++stats.torn_reads;
    response.status = kEchoOk;
    ++stats.served;
}

} // namespace twofold::hostile
