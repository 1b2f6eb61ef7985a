#pragma once
// In the input owner: one persona's vkbd writer process, as the router's GuestInput. The
// owner holds dom0's input devices and makes every routing decision (which persona, or nobody
// during a switch; the switch key never passed); the writer, restricted to its persona's
// domain, only puts what it is sent into that persona's ring. The writer tells the link when
// its frontend connects or goes away (the router then attaches or detaches the persona) and
// when its guest consumed events (owed releases go then).
//
// The writer may be taken over by its guest: whatever it sends is parsed strictly; a message
// that does not parse is logged (rate-limited), counted, and detaches that persona until the
// writer says again that it is connected. It can cost its own persona's input, nothing else.
#include <cstddef>
#include <memory>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <spdlog/logger.h>

#include "twofold/input/peer_wire.h"
#include "twofold/input/router.h"
#include "twofold/input/seqpacket_link.h"
#include "twofold/xen/unique_fd.h"

namespace twofold::input {

struct WriterLinkCounters {
    std::size_t messages_sent = 0;
    std::size_t events_not_sent = 0; // the writer did not read: dropped
    std::size_t bad_messages = 0;
};

class WriterLink final : public GuestInput {
public:
    WriterLink(boost::asio::io_context& io, GuestAttachments& router, PersonaId persona, std::string persona_name,
               xen::UniqueFd socket, std::shared_ptr<spdlog::logger> log);
    ~WriterLink() override;
    WriterLink(const WriterLink&) = delete;
    WriterLink& operator=(const WriterLink&) = delete;

    // Starts reading and asks the writer for its state (it may have connected before this
    // owner started).
    void start();

    PushResult push(const GuestEvent& event) override;
    void flush() override;

    [[nodiscard]] bool connected() const noexcept { return connected_; }
    [[nodiscard]] const WriterLinkCounters& counters() const noexcept { return counters_; }

private:
    void on_message(std::span<const std::byte> untrusted);
    void set_connected(bool connected);
    bool send_batch();

    GuestAttachments& router_;
    PersonaId persona_;
    std::string persona_name_;
    std::shared_ptr<spdlog::logger> log_;
    SeqPacketLink link_;
    std::vector<GuestEvent> batch_;
    bool connected_ = false;
    bool stalled_ = false; // a send failed: Full until the writer says its guest is ready
    WriterLinkCounters counters_;
    RateLimiter bad_log_{std::chrono::seconds(1)};
};

} // namespace twofold::input
