#pragma once
// A backend's xenstore when twofold-manager proxies it (issue 14, item 2): the XenStore the
// backends already use, spoken over the socket the manager handed over at spawn
// (`--xenstore-fd`, protocol in xenstore_wire.h). The backend then never opens a xenstored
// connection of its own, so a taken-over backend reaches only what the manager's gate admits.
//
// Calls are synchronous, as libxenstore's are: a request goes out and the call waits (bounded
// by a timeout) for its reply; watch events that arrive meanwhile are queued. watch_fd() is an
// epoll descriptor over the socket and a queue eventfd, so it is readable while an event is on
// the socket or queued, and take_watch_events() returns both.
#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>

#include "twofold/xen/platform.h"
#include "twofold/xen/unique_fd.h"
#include "twofold/xen/xenstore.h"
#include "twofold/xenbus/xenstore_wire.h"

namespace twofold::xenbus {

// Events held for the backend between two take_watch_events(); past it the manager is
// flooding us (it coalesces), and the link is treated as broken.
inline constexpr std::size_t kMaxQueuedWatchEvents = 4096;
inline constexpr std::chrono::milliseconds kProxyReplyTimeout{5000};

class ProxiedXenStore final : public xen::XenStore {
public:
    // Takes the socket (made non-blocking here). Throws XenError if the descriptors for
    // watch_fd() cannot be created (do it before confinement).
    explicit ProxiedXenStore(xen::UniqueFd socket, std::chrono::milliseconds timeout = kProxyReplyTimeout);

    std::optional<std::string> read(const std::string& path) override;
    void write(const std::string& path, std::string_view value) override;
    void mkdir(const std::string& path) override;
    void remove(const std::string& path) override;
    std::vector<std::string> list(const std::string& path) override;
    // The proxy never sets permissions for a backend (the toolstack's job): refused here.
    void set_permissions(const std::string& path, std::span<const xen::Permission> perms) override;
    // Gated as read is: the permissions of a node this backend may read.
    std::optional<std::vector<xen::Permission>> get_permissions(const std::string& path) override;
    void watch(const std::string& path, const std::string& token) override;
    void unwatch(const std::string& path, const std::string& token) override;
    [[nodiscard]] int watch_fd() const override { return epoll_.get(); }
    std::vector<xen::WatchEvent> take_watch_events() override;

private:
    // Sends one request and returns its reply; a Failed reply throws XenError with its errno.
    wire::Reply call(wire::Request request);
    void send_all(const std::string& frame);
    // Reads what the socket has (waiting up to the deadline when `wait`), parses whole frames,
    // queues events; returns a reply for `id` if one came. Throws on EOF or a broken stream.
    std::optional<wire::Reply> pump(std::uint32_t id, bool wait, std::chrono::steady_clock::time_point deadline);
    void mark_broken() noexcept;
    void queue(xen::WatchEvent event);
    void signal_queue();
    void drain_queue_signal();

    xen::UniqueFd socket_;
    xen::UniqueFd queued_; // eventfd: readable while queue_ is not empty
    xen::UniqueFd epoll_;
    std::chrono::milliseconds timeout_;
    wire::FrameReader reader_;
    std::deque<xen::WatchEvent> queue_;
    std::uint32_t next_id_ = 1;
    bool broken_ = false;
};

// A Platform whose open_xenstore() returns the proxied store (once: there is one socket) and
// that passes everything else to `inner`.
std::unique_ptr<xen::Platform> with_xenstore_proxy(std::unique_ptr<xen::Platform> inner, xen::UniqueFd socket);

} // namespace twofold::xenbus
