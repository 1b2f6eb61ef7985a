#pragma once
// The reference device of the hostile-frontend suite: "echo" requests on a ring.h
// request/response ring, served by the real xenbus machinery over the loopback. Small on
// purpose, but written the way a real device is (BackRing, error statuses, notify hold-off).
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>

#include "twofold/rings/back_ring.h"
#include "twofold/xenbus/device.h"

namespace twofold::hostile {

inline constexpr std::uint8_t kEchoOp = 1;
inline constexpr std::size_t kMaxEchoData = 48;
inline constexpr std::int32_t kEchoOk = 0;
inline constexpr std::int32_t kEchoInvalid = -1;      // malformed request
inline constexpr std::int32_t kEchoNotSupported = -2; // unknown op

struct EchoRequest {
    std::uint32_t id;
    std::uint8_t op;
    std::uint8_t len;
    std::uint8_t pad[2];
    std::uint8_t data[kMaxEchoData];
};

struct EchoResponse {
    std::uint32_t id;
    std::int32_t status;
    std::uint8_t len;
    std::uint8_t pad[3];
    std::uint32_t checksum; // sum of the echoed bytes
    std::uint8_t data[kMaxEchoData];
};

using EchoBackRing = rings::BackRing<EchoRequest, EchoResponse>;

// What the device saw; atomics because concurrency tests read them from other threads.
struct EchoStats {
    std::atomic<std::size_t> served{0};
    std::atomic<std::size_t> error_responses{0};
    // Responses whose echoed bytes differ from what the handler checked: only possible when
    // the handler was given shared memory a guest rewrote in between (a double fetch).
    std::atomic<std::size_t> torn_reads{0};
    std::atomic<std::size_t> max_batch{0};
};

class EchoDevice final : public xenbus::Device {
public:
    explicit EchoDevice(std::shared_ptr<EchoStats> stats) : stats_(std::move(stats)) {}

    xenbus::Result<void> on_bind(const xenbus::BindContext& context) override;
    xenbus::ServiceOutcome on_event(std::size_t budget) override;
    void on_closing() noexcept override;

private:
    static void handle(const EchoRequest& request, EchoResponse& response, EchoStats& stats) noexcept;

    std::shared_ptr<EchoStats> stats_;
    std::optional<EchoBackRing> ring_;
    const xen::BoundPort* port_ = nullptr;
};

} // namespace twofold::hostile
