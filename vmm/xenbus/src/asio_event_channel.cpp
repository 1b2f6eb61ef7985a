#include "twofold/xenbus/asio_event_channel.h"

#include <exception>
#include <utility>

#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

namespace twofold::xenbus {

AsioEventChannel::Registration::Registration(Registration&& other) noexcept
    : owner_(std::exchange(other.owner_, nullptr)), port_(other.port_) {}

AsioEventChannel::Registration& AsioEventChannel::Registration::operator=(Registration&& other) noexcept {
    if (this != &other) {
        reset();
        owner_ = std::exchange(other.owner_, nullptr);
        port_ = other.port_;
    }
    return *this;
}

void AsioEventChannel::Registration::reset() noexcept {
    if (owner_ != nullptr) std::exchange(owner_, nullptr)->remove(port_);
}

AsioEventChannel::AsioEventChannel(boost::asio::io_context& io, xen::EventChannel& channel,
                                   std::shared_ptr<spdlog::logger> log, std::size_t budget_per_wake)
    : io_(io), channel_(channel), log_(std::move(log)), budget_(budget_per_wake == 0 ? 1 : budget_per_wake),
      descriptor_(io, channel.fd()) {
    arm();
}

AsioEventChannel::~AsioEventChannel() {
    // The descriptor belongs to the EventChannel: stop watching it without closing it.
    boost::system::error_code ignored;
    descriptor_.cancel(ignored);
    (void)descriptor_.release();
}

AsioEventChannel::Registration AsioEventChannel::add(xen::Port port, Handler handler) {
    auto entry = std::make_shared<Entry>();
    entry->port = port;
    entry->handler = std::move(handler);
    entries_[port] = entry;
    schedule(entry);
    return Registration(*this, port);
}

void AsioEventChannel::remove(xen::Port port) noexcept { entries_.erase(port); }

void AsioEventChannel::arm() {
    std::weak_ptr<int> alive = alive_;
    descriptor_.async_wait(boost::asio::posix::stream_descriptor::wait_read,
                           [this, alive](const boost::system::error_code& ec) {
                               if (ec || alive.expired()) return;
                               on_readable();
                           });
}

void AsioEventChannel::on_readable() {
    try {
        // Drain every fired port; each gets its own posted run, in firing order.
        while (auto port = channel_.pending()) {
            auto found = entries_.find(*port);
            if (found == entries_.end()) {
                log_->debug("event on unregistered port {}", *port);
                continue;
            }
            schedule(found->second);
        }
    } catch (const std::exception& e) {
        log_->error("event channel: reading pending ports failed: {}", e.what());
    }
    arm();
}

void AsioEventChannel::schedule(const std::shared_ptr<Entry>& entry) {
    // A port already queued stays queued once: repeated notifies coalesce.
    if (entry->scheduled) return;
    entry->scheduled = true;
    std::weak_ptr<Entry> weak = entry;
    std::weak_ptr<int> alive = alive_;
    boost::asio::post(io_, [this, weak, alive] {
        if (!alive.expired()) run(weak);
    });
}

void AsioEventChannel::run(const std::weak_ptr<Entry>& weak) {
    // Holding the entry keeps its handler alive even if the handler removes its registration.
    auto entry = weak.lock();
    if (!entry) return;
    entry->scheduled = false;
    Work work = Work::Done;
    try {
        work = entry->handler(budget_);
    } catch (const std::exception& e) {
        log_->error("port {}: handler failed: {}", entry->port, e.what());
    }
    const auto current = entries_.find(entry->port);
    if (current == entries_.end() || current->second != entry) return; // unregistered meanwhile
    if (work == Work::MorePending) {
        schedule(entry); // behind everything else that is ready
        return;
    }
    try {
        channel_.unmask(entry->port);
    } catch (const std::exception& e) {
        log_->error("port {}: unmask failed: {}", entry->port, e.what());
    }
}

} // namespace twofold::xenbus
