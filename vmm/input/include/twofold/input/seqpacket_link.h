#pragma once
// One end of a SOCK_SEQPACKET socket on an Asio loop: whole messages out without blocking,
// whole messages in, a bounded number per wake. The input owner and the vkbd writers speak
// peer_wire.h over it. Never blocks and never raises SIGPIPE: a peer that stopped reading
// makes send() return false, and the caller decides what that costs.
#include <array>
#include <cstddef>
#include <functional>
#include <memory>
#include <span>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>

#include "twofold/input/peer_wire.h"
#include "twofold/xen/unique_fd.h"

namespace twofold::input {

// Messages read per wake before the rest of the loop has its turn.
inline constexpr std::size_t kPeerMessagesPerWake = 64;

class SeqPacketLink {
public:
    // `message`: one whole message as received (unparsed). `broken`: the socket failed or
    // the other side is gone for good (the manager holds both ends, so that is not a restart),
    // once; nothing is read afterwards.
    using OnMessage = std::function<void(std::span<const std::byte>)>;
    using OnBroken = std::function<void(const std::string& why)>;

    SeqPacketLink(boost::asio::io_context& io, xen::UniqueFd socket, OnMessage message, OnBroken broken);
    ~SeqPacketLink();
    SeqPacketLink(const SeqPacketLink&) = delete;
    SeqPacketLink& operator=(const SeqPacketLink&) = delete;

    void start();
    // False: not sent (the other side's queue is full, or the link is broken).
    bool send(std::span<const std::byte> message) noexcept;

private:
    void wait();
    void drain();
    // recv() gives 0 both for an empty message and after the other side closed.
    [[nodiscard]] bool peer_closed() noexcept;

    boost::asio::io_context& io_;
    boost::asio::posix::stream_descriptor descriptor_;
    OnMessage message_;
    OnBroken broken_;
    bool broken_reported_ = false;
    std::array<std::byte, peer::kMaxMessageBytes + 1> buffer_{};
    std::shared_ptr<int> alive_ = std::make_shared<int>(0);
};

} // namespace twofold::input
