#include "twofold/xenbus/proxied_xenstore.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <utility>

#include "twofold/xen/error.h"

namespace twofold::xenbus {
namespace {

using Clock = std::chrono::steady_clock;

void add_to_epoll(int epoll, int fd) {
    epoll_event event{};
    event.events = EPOLLIN;
    event.data.fd = fd;
    if (::epoll_ctl(epoll, EPOLL_CTL_ADD, fd, &event) < 0) xen::throw_errno("epoll_ctl (xenstore proxy)");
}

const char* op_name(wire::RequestKind kind) {
    switch (kind) {
    case wire::RequestKind::Read: return "xs_read";
    case wire::RequestKind::Write: return "xs_write";
    case wire::RequestKind::Mkdir: return "xs_mkdir";
    case wire::RequestKind::Remove: return "xs_rm";
    case wire::RequestKind::List: return "xs_directory";
    case wire::RequestKind::Watch: return "xs_watch";
    case wire::RequestKind::Unwatch: return "xs_unwatch";
    case wire::RequestKind::GetPermissions: return "xs_get_permissions";
    }
    return "xs_op";
}

} // namespace

ProxiedXenStore::ProxiedXenStore(xen::UniqueFd socket, std::chrono::milliseconds timeout)
    : socket_(std::move(socket)), timeout_(timeout) {
    const int flags = ::fcntl(socket_.get(), F_GETFL);
    if (flags < 0 || ::fcntl(socket_.get(), F_SETFL, flags | O_NONBLOCK) < 0) xen::throw_errno("xenstore proxy socket");
    queued_ = xen::UniqueFd(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
    if (!queued_.valid()) xen::throw_errno("eventfd (xenstore proxy)");
    epoll_ = xen::UniqueFd(::epoll_create1(EPOLL_CLOEXEC));
    if (!epoll_.valid()) xen::throw_errno("epoll_create1 (xenstore proxy)");
    add_to_epoll(epoll_.get(), socket_.get());
    add_to_epoll(epoll_.get(), queued_.get());
}

std::optional<std::string> ProxiedXenStore::read(const std::string& path) {
    auto reply = call({wire::RequestKind::Read, 0, path, {}, {}});
    if (reply.kind == wire::ReplyKind::Missing) return std::nullopt;
    if (reply.kind != wire::ReplyKind::Value) throw xen::XenError(EPROTO, "xs_read " + path + " (proxy reply)");
    return std::move(reply.value);
}

void ProxiedXenStore::write(const std::string& path, std::string_view value) {
    if (value.size() > wire::kMaxValue) throw xen::XenError(E2BIG, "xs_write " + path);
    (void)call({wire::RequestKind::Write, 0, path, std::string(value), {}});
}

void ProxiedXenStore::mkdir(const std::string& path) { (void)call({wire::RequestKind::Mkdir, 0, path, {}, {}}); }

void ProxiedXenStore::remove(const std::string& path) { (void)call({wire::RequestKind::Remove, 0, path, {}, {}}); }

std::vector<std::string> ProxiedXenStore::list(const std::string& path) {
    auto reply = call({wire::RequestKind::List, 0, path, {}, {}});
    if (reply.kind == wire::ReplyKind::Missing) return {};
    if (reply.kind != wire::ReplyKind::Names) throw xen::XenError(EPROTO, "xs_directory " + path + " (proxy reply)");
    return std::move(reply.names);
}

void ProxiedXenStore::set_permissions(const std::string& path, std::span<const xen::Permission>) {
    throw xen::XenError(EACCES, "xs_set_permissions " + path + " (not through the xenstore proxy)");
}

std::optional<std::vector<xen::Permission>> ProxiedXenStore::get_permissions(const std::string& path) {
    auto reply = call({wire::RequestKind::GetPermissions, 0, path, {}, {}});
    if (reply.kind == wire::ReplyKind::Missing) return std::nullopt;
    if (reply.kind != wire::ReplyKind::Permissions) {
        throw xen::XenError(EPROTO, "xs_get_permissions " + path + " (proxy reply)");
    }
    return std::move(reply.permissions);
}

void ProxiedXenStore::watch(const std::string& path, const std::string& token) {
    (void)call({wire::RequestKind::Watch, 0, path, {}, token});
}

void ProxiedXenStore::unwatch(const std::string& path, const std::string& token) {
    (void)call({wire::RequestKind::Unwatch, 0, path, {}, token});
}

std::vector<xen::WatchEvent> ProxiedXenStore::take_watch_events() {
    drain_queue_signal();
    if (!broken_) (void)pump(0, false, Clock::now());
    std::vector<xen::WatchEvent> events(std::make_move_iterator(queue_.begin()), std::make_move_iterator(queue_.end()));
    queue_.clear();
    drain_queue_signal();
    return events;
}

wire::Reply ProxiedXenStore::call(wire::Request request) {
    const std::string operation = std::string(op_name(request.kind)) + " " + request.path;
    if (broken_) throw xen::XenError(EPIPE, operation + " (xenstore proxy link is down)");
    if (!wire::valid_path(request.path)) throw xen::XenError(EINVAL, operation);
    if (request.kind == wire::RequestKind::Watch || request.kind == wire::RequestKind::Unwatch) {
        if (!wire::valid_token(request.token)) throw xen::XenError(EINVAL, operation + " (token)");
    } else if (request.path.front() == '@') {
        throw xen::XenError(EINVAL, operation);
    }
    request.id = next_id_;
    next_id_ = next_id_ == UINT32_MAX ? 1 : next_id_ + 1; // 0 is the events' id
    send_all(wire::encode(request));
    const auto deadline = Clock::now() + timeout_;
    for (;;) {
        if (auto reply = pump(request.id, true, deadline)) {
            if (reply->kind == wire::ReplyKind::Failed) throw xen::XenError(reply->error, operation);
            return std::move(*reply);
        }
    }
}

void ProxiedXenStore::send_all(const std::string& frame) {
    std::size_t sent = 0;
    const auto deadline = Clock::now() + timeout_;
    while (sent < frame.size()) {
        const ssize_t n = ::send(socket_.get(), frame.data() + sent, frame.size() - sent, MSG_NOSIGNAL);
        if (n > 0) {
            sent += static_cast<std::size_t>(n);
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
            pollfd out{socket_.get(), POLLOUT, 0};
            if (left.count() <= 0 || ::poll(&out, 1, static_cast<int>(left.count())) == 0) {
                mark_broken();
                throw xen::XenError(ETIMEDOUT, "xenstore proxy: send");
            }
            continue;
        }
        mark_broken();
        xen::throw_errno("xenstore proxy: send");
    }
}

std::optional<wire::Reply> ProxiedXenStore::pump(std::uint32_t id, bool wait, Clock::time_point deadline) {
    std::optional<wire::Reply> answer;
    for (;;) {
        while (auto body = reader_.next()) {
            auto parsed = wire::parse_reply(*body);
            if (!parsed) {
                mark_broken();
                throw xen::XenError(EPROTO, "xenstore proxy: " + parsed.error().message);
            }
            auto reply = std::move(parsed).value();
            if (reply.kind == wire::ReplyKind::Event) {
                queue({std::move(reply.path), std::move(reply.token)});
                continue;
            }
            // Calls are one at a time: any other id is a reply to nothing.
            if (reply.id != id || answer) {
                mark_broken();
                throw xen::XenError(EPROTO, "xenstore proxy: reply to no request");
            }
            answer = std::move(reply);
        }
        if (reader_.broken()) {
            mark_broken();
            throw xen::XenError(EPROTO, "xenstore proxy: frame length out of range");
        }
        if (answer) return answer;
        std::array<std::byte, 8192> chunk{};
        const ssize_t n = ::recv(socket_.get(), chunk.data(), chunk.size(), 0);
        if (n > 0) {
            reader_.feed(std::span(chunk).first(static_cast<std::size_t>(n)));
            continue;
        }
        if (n == 0) {
            mark_broken();
            throw xen::XenError(EPIPE, "xenstore proxy: the manager closed the link");
        }
        if (errno == EINTR) continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK) {
            mark_broken();
            xen::throw_errno("xenstore proxy: recv");
        }
        if (!wait) return std::nullopt;
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
        pollfd in{socket_.get(), POLLIN, 0};
        if (left.count() <= 0 || ::poll(&in, 1, static_cast<int>(left.count())) == 0) {
            // A late reply would be taken for the next call's: the link cannot be trusted now.
            mark_broken();
            throw xen::XenError(ETIMEDOUT, "xenstore proxy: no reply");
        }
    }
}

void ProxiedXenStore::mark_broken() noexcept {
    if (broken_) return;
    broken_ = true;
    // A closed or garbled socket stays readable: out of the epoll set, so the watch
    // dispatcher does not spin on it. The manager ends this backend with the link anyway.
    (void)::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, socket_.get(), nullptr);
}

void ProxiedXenStore::queue(xen::WatchEvent event) {
    for (const auto& queued : queue_) {
        if (queued.path == event.path && queued.token == event.token) return; // handlers re-read
    }
    if (queue_.size() >= kMaxQueuedWatchEvents) {
        mark_broken();
        throw xen::XenError(ENOBUFS, "xenstore proxy: too many watch events queued");
    }
    queue_.push_back(std::move(event));
    signal_queue();
}

void ProxiedXenStore::signal_queue() {
    const std::uint64_t one = 1;
    // EAGAIN only when the counter is saturated: it is readable either way.
    (void)::write(queued_.get(), &one, sizeof one);
}

void ProxiedXenStore::drain_queue_signal() {
    std::uint64_t count = 0;
    (void)::read(queued_.get(), &count, sizeof count);
}

namespace {

class ProxiedPlatform final : public xen::Platform {
public:
    ProxiedPlatform(std::unique_ptr<xen::Platform> inner, xen::UniqueFd socket)
        : inner_(std::move(inner)), socket_(std::move(socket)) {}
    [[nodiscard]] xen::DomId own_domid() const override { return inner_->own_domid(); }
    std::unique_ptr<xen::XenStore> open_xenstore() override {
        if (!socket_.valid()) throw xen::XenError(EBUSY, "xenstore proxy: already opened (one socket, one store)");
        return std::make_unique<ProxiedXenStore>(std::move(socket_));
    }
    std::unique_ptr<xen::EventChannel> open_event_channel() override { return inner_->open_event_channel(); }
    std::unique_ptr<xen::GrantMapper> open_grant_mapper() override { return inner_->open_grant_mapper(); }
    std::unique_ptr<xen::ForeignMemory> open_foreign_memory() override { return inner_->open_foreign_memory(); }
    void restrict_to(xen::DomId domid) override { inner_->restrict_to(domid); }
    [[nodiscard]] std::optional<xen::DomId> restricted_to() const override { return inner_->restricted_to(); }

private:
    std::unique_ptr<xen::Platform> inner_;
    xen::UniqueFd socket_;
};

} // namespace

std::unique_ptr<xen::Platform> with_xenstore_proxy(std::unique_ptr<xen::Platform> inner, xen::UniqueFd socket) {
    return std::make_unique<ProxiedPlatform>(std::move(inner), std::move(socket));
}

} // namespace twofold::xenbus
