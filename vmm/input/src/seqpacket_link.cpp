#include "twofold/input/seqpacket_link.h"

#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

#include <boost/asio/post.hpp>

namespace twofold::input {

SeqPacketLink::SeqPacketLink(boost::asio::io_context& io, xen::UniqueFd socket, OnMessage message, OnBroken broken)
    : io_(io), descriptor_(io, socket.release()), message_(std::move(message)), broken_(std::move(broken)) {}

SeqPacketLink::~SeqPacketLink() {
    boost::system::error_code ignored;
    descriptor_.cancel(ignored);
}

void SeqPacketLink::start() { wait(); }

bool SeqPacketLink::send(std::span<const std::byte> message) noexcept {
    if (broken_reported_) return false;
    const ssize_t n = ::send(descriptor_.native_handle(), message.data(), message.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
    return n == static_cast<ssize_t>(message.size());
}

bool SeqPacketLink::peer_closed() noexcept {
    pollfd entry{descriptor_.native_handle(), POLLRDHUP, 0};
    return ::poll(&entry, 1, 0) == 1 && (entry.revents & (POLLHUP | POLLRDHUP)) != 0;
}

void SeqPacketLink::wait() {
    std::weak_ptr<int> alive = alive_;
    descriptor_.async_wait(boost::asio::posix::stream_descriptor::wait_read,
                           [this, alive](const boost::system::error_code& error) {
                               if (alive.expired() || error == boost::asio::error::operation_aborted) return;
                               if (error) {
                                   if (!broken_reported_) {
                                       broken_reported_ = true;
                                       broken_(error.message());
                                   }
                                   return;
                               }
                               drain();
                           });
}

void SeqPacketLink::drain() {
    std::weak_ptr<int> alive = alive_;
    for (std::size_t i = 0; i < kPeerMessagesPerWake; ++i) {
        // One byte more than the largest message: a longer one shows as truncated (MSG_TRUNC)
        // and is handed on at that length, so the parser refuses it.
        const ssize_t n = ::recv(descriptor_.native_handle(), buffer_.data(), buffer_.size(), MSG_DONTWAIT);
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
                wait();
                return;
            }
            const std::string why = std::strerror(errno);
            broken_reported_ = true;
            broken_(why);
            return;
        }
        if (n == 0 && peer_closed()) {
            broken_reported_ = true;
            broken_("the other side closed the link");
            return;
        }
        // 0 otherwise is an empty message (SEQPACKET has them): the parser refuses it.
        message_(std::span<const std::byte>(buffer_.data(), static_cast<std::size_t>(n)));
        if (alive.expired()) return; // the handler destroyed this link
    }
    // More may be queued: come back after the rest of the loop had its turn.
    boost::asio::post(io_, [this, alive] {
        if (!alive.expired()) drain();
    });
}

} // namespace twofold::input
