#pragma once
// The per-persona vkbd writer (twofold-vkbd-backend): serves one persona's xen-kbdfront and
// puts into its ring what the input owner sends, nothing else. Started by the manager once per
// persona (`--persona NAME:KIND --domid N --peer-fd 5`); main() restricts its Xen handles to
// that domain once they are open, so a writer taken over by its guest can neither map, bind
// nor signal anything of the other persona, and its xenstore is the manager's proxy admitting
// that domain's paths only.
//
// OwnerLink is the writer's side of the owner's link and the device's GuestAttachments: it
// reports the frontend connecting and going away, and keeps a bounded queue for a ring the
// guest has not consumed (releases owed at a switch must not be lost to a ring that was full
// for a moment); beyond that queue events are dropped and counted.
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <string>

#include <spdlog/logger.h>

#include "twofold/focus/focus_protocol.h"
#include "twofold/input/personas.h"
#include "twofold/input/peer_wire.h"
#include "twofold/input/router.h"
#include "twofold/input/seqpacket_link.h"
#include "twofold/xen/platform.h"
#include "twofold/xenbus/backend_runtime.h"
#include "twofold/xenbus/backend_service.h"

namespace twofold::input {

// Events kept for a guest whose ring is full (xen-kbdfront's in ring holds 127).
inline constexpr std::size_t kMaxQueuedForGuest = 512;

struct OwnerLinkCounters {
    std::size_t delivered = 0;
    std::size_t dropped_no_guest = 0;
    std::size_t dropped_not_wanted = 0;
    std::size_t dropped_queue_full = 0;
    std::size_t bad_messages = 0;
};

class OwnerLink final : public GuestAttachments {
public:
    OwnerLink(boost::asio::io_context& io, xen::UniqueFd socket, std::string persona_name,
              std::shared_ptr<spdlog::logger> log);
    ~OwnerLink() override;
    OwnerLink(const OwnerLink&) = delete;
    OwnerLink& operator=(const OwnerLink&) = delete;

    // Tells the owner this writer has no frontend yet (an owner that knew an earlier writer
    // of this persona as connected detaches it), then reads.
    void start();

    void attach(PersonaId persona, GuestInput& guest) override;
    void detach(PersonaId persona, const GuestInput& guest) noexcept override;
    void guest_ready(PersonaId persona, const GuestInput& guest) override;

    [[nodiscard]] const OwnerLinkCounters& counters() const noexcept { return counters_; }
    [[nodiscard]] std::size_t queued() const noexcept { return queue_.size(); }

private:
    void on_message(std::span<const std::byte> untrusted);
    void deliver(const GuestEvent& event);
    // Pushes queued events while the ring takes them; true when the queue is empty.
    bool push_queued();
    void send_state();
    void send_ready();

    std::string persona_name_;
    std::shared_ptr<spdlog::logger> log_;
    SeqPacketLink link_;
    GuestInput* guest_ = nullptr;
    std::deque<GuestEvent> queue_;
    bool owe_ready_ = false; // the owner may be waiting for room: tell it once there is some
    OwnerLinkCounters counters_;
    RateLimiter bad_log_{std::chrono::seconds(1)};
    RateLimiter drop_log_{std::chrono::seconds(1)};
};

struct VkbdWriterConfig {
    PersonaConfig persona;
    xen::DomId domid{};
    GuestResolution resolution;
    std::size_t budget_per_wake = xenbus::kDefaultBudgetPerWake;
};

class VkbdWriter {
public:
    using AuditSink = std::function<void(const focus::AuditEvent&)>;

    // `owner`: this persona's end of the link to the input owner. Throws for configuration
    // errors (dom0 or a reserved domid, a resolution out of range) and Xen failures.
    VkbdWriter(xen::Platform& platform, const VkbdWriterConfig& config, xen::UniqueFd owner,
               std::shared_ptr<spdlog::logger> log, AuditSink audit = {});
    ~VkbdWriter();
    VkbdWriter(const VkbdWriter&) = delete;
    VkbdWriter& operator=(const VkbdWriter&) = delete;

    void start();
    [[nodiscard]] boost::asio::io_context& io() noexcept { return runtime_.io(); }
    void run() { runtime_.run(); }
    void stop() { runtime_.stop(); }

    [[nodiscard]] const OwnerLink& owner() const noexcept { return owner_; }
    [[nodiscard]] const xenbus::BackendService& service() const noexcept { return service_; }

private:
    std::shared_ptr<spdlog::logger> log_;
    AuditSink audit_;
    VkbdWriterConfig config_;
    Personas personas_;
    xenbus::BackendRuntime runtime_;
    OwnerLink owner_;
    xenbus::BackendService service_;
};

} // namespace twofold::input
