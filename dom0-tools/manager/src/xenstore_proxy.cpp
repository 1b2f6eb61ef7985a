#include "twofold/manager/xenstore_proxy.h"

#include <algorithm>
#include <cerrno>
#include <exception>
#include <utility>

#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <spdlog/spdlog.h>

#include "twofold/xen/error.h"

namespace twofold::manager {
namespace asio = boost::asio;
using xenbus::XenStoreOp;
using xenbus::wire::Reply;
using xenbus::wire::ReplyKind;
using xenbus::wire::Request;
using xenbus::wire::RequestKind;

namespace {

XenStoreOp op_of(RequestKind kind) {
    switch (kind) {
    case RequestKind::Read: return XenStoreOp::Read;
    case RequestKind::Write: return XenStoreOp::Write;
    case RequestKind::Mkdir: return XenStoreOp::Mkdir;
    case RequestKind::Remove: return XenStoreOp::Remove;
    case RequestKind::List: return XenStoreOp::List;
    case RequestKind::Watch: return XenStoreOp::Watch;
    case RequestKind::Unwatch: return XenStoreOp::Unwatch;
    // Reading a node's permissions is reading the node, as in xenstored and the gate.
    case RequestKind::GetPermissions: return XenStoreOp::Read;
    }
    return XenStoreOp::SetPermissions; // unreachable: parse_request admits only the kinds above
}

const char* op_name(RequestKind kind) {
    switch (kind) {
    case RequestKind::Read: return "read";
    case RequestKind::Write: return "write";
    case RequestKind::Mkdir: return "mkdir";
    case RequestKind::Remove: return "rm";
    case RequestKind::List: return "directory";
    case RequestKind::Watch: return "watch";
    case RequestKind::Unwatch: return "unwatch";
    case RequestKind::GetPermissions: return "get_perms";
    }
    return "op";
}

Reply failed(std::uint32_t id, int error) {
    Reply reply;
    reply.kind = ReplyKind::Failed;
    reply.id = id;
    reply.error = error > 0 && error <= 4095 ? error : EIO;
    return reply;
}

Reply ok(std::uint32_t id, ReplyKind kind = ReplyKind::Ok) {
    Reply reply;
    reply.kind = kind;
    reply.id = id;
    return reply;
}

} // namespace

XenStoreProxy::XenStoreProxy(asio::io_context& io, xen::UniqueFd socket, std::unique_ptr<xen::XenStore> store,
                             xenbus::DeviceType type, Audit audit, Broken broken)
    : socket_(xen::hand_over<asio::local::stream_protocol::socket>(socket, io, asio::local::stream_protocol())),
      store_(std::move(store)), store_events_(io, store_->watch_fd()), type_(type),
      type_dir_(xenbus::backend_type_dir(xen::kDom0, type)), audit_(std::move(audit)), broken_(std::move(broken)),
      window_start_(std::chrono::steady_clock::now()) {}

XenStoreProxy::~XenStoreProxy() {
    boost::system::error_code ignored;
    store_events_.cancel(ignored);
    (void)store_events_.release(); // the descriptor belongs to the store
    socket_.close(ignored);
    for (const auto& [token, path] : watches_) {
        try {
            store_->unwatch(path, token);
        } catch (const std::exception&) {
            // The connection closes with the store below; nothing else to release.
        }
    }
}

void XenStoreProxy::start() {
    read_more();
    arm_events();
}

bool XenStoreProxy::admits(XenStoreOp op, const std::string& path) const {
    // The type directory and @releaseDomain concern every frontend: listed and watched even
    // before a persona is known, their contents filtered below.
    if (path == type_dir_ || path == "@releaseDomain") {
        const bool watching = op == XenStoreOp::Watch || op == XenStoreOp::Unwatch;
        return watching || (op == XenStoreOp::List && path == type_dir_);
    }
    return std::any_of(frontends_.begin(), frontends_.end(), [&](xen::DomId frontend) {
        return xenbus::gate_admits(xenbus::GateScope{xen::kDom0, frontend, type_}, op, path);
    });
}

void XenStoreProxy::set_frontends(std::set<xen::DomId> frontends) {
    std::erase_if(frontends, [](xen::DomId d) { return d == xen::kDom0 || d >= xen::kFirstReservedDomId; });
    if (frontends == frontends_) return;
    frontends_ = std::move(frontends);
    if (ended_) return;
    // What the backend may list under its type directory changed: make it look again.
    for (const auto& [token, path] : watches_) {
        if (path != type_dir_) continue;
        Reply event = ok(0, ReplyKind::Event);
        event.path = path;
        event.token = token;
        send(event);
    }
}

void XenStoreProxy::read_more() {
    std::weak_ptr<int> alive = alive_;
    socket_.async_read_some(asio::buffer(buffer_), [this, alive](const boost::system::error_code& ec, std::size_t n) {
        if (alive.expired() || ended_) return;
        if (ec) {
            end(ec == asio::error::eof ? "the backend closed its xenstore link" : "xenstore link: " + ec.message());
            return;
        }
        reader_.feed(std::span(buffer_).first(n));
        while (auto body = reader_.next()) {
            auto request = xenbus::wire::parse_request(*body);
            if (!request) {
                end("malformed xenstore request: " + request.error().message);
                return;
            }
            on_request(request.value());
            if (alive.expired() || ended_) return;
        }
        if (reader_.broken()) {
            end("xenstore request frame length out of range");
            return;
        }
        read_more();
    });
}

void XenStoreProxy::on_request(const Request& request) {
    ++stats_.requests;
    if (!admits(op_of(request.kind), request.path)) {
        deny(request);
        return;
    }
    send(perform(request));
}

Reply XenStoreProxy::perform(const Request& request) {
    try {
        switch (request.kind) {
        case RequestKind::Read: {
            auto value = store_->read(request.path);
            if (!value) return ok(request.id, ReplyKind::Missing);
            if (value->size() > xenbus::wire::kMaxValue) return failed(request.id, E2BIG);
            Reply reply = ok(request.id, ReplyKind::Value);
            reply.value = std::move(*value);
            return reply;
        }
        case RequestKind::Write:
            store_->write(request.path, request.value);
            return ok(request.id);
        case RequestKind::Mkdir:
            store_->mkdir(request.path);
            return ok(request.id);
        case RequestKind::Remove:
            store_->remove(request.path);
            return ok(request.id);
        case RequestKind::List: {
            Reply reply = ok(request.id, ReplyKind::Names);
            reply.names = store_->list(request.path);
            if (request.path == type_dir_) {
                // Every persona's entry is there: answer with the ones this backend serves.
                std::erase_if(reply.names, [&](const std::string& name) {
                    return std::none_of(frontends_.begin(), frontends_.end(),
                                        [&](xen::DomId d) { return name == std::to_string(d); });
                });
            }
            if (reply.names.size() > xenbus::wire::kMaxNames) return failed(request.id, E2BIG);
            return reply;
        }
        case RequestKind::Watch:
            if (watches_.contains(request.token)) return failed(request.id, EEXIST);
            if (watches_.size() >= kMaxProxyWatches) return failed(request.id, ENOSPC);
            store_->watch(request.path, request.token);
            watches_.emplace(request.token, request.path);
            return ok(request.id);
        case RequestKind::GetPermissions: {
            auto permissions = store_->get_permissions(request.path);
            if (!permissions) return ok(request.id, ReplyKind::Missing);
            if (permissions->empty()) return failed(request.id, EIO); // xenstored always names an owner
            if (permissions->size() > xenbus::wire::kMaxPermissions) return failed(request.id, E2BIG);
            Reply reply = ok(request.id, ReplyKind::Permissions);
            reply.permissions = std::move(*permissions);
            return reply;
        }
        case RequestKind::Unwatch: {
            const auto found = watches_.find(request.token);
            if (found == watches_.end() || found->second != request.path) return failed(request.id, ENOENT);
            watches_.erase(found);
            store_->unwatch(request.path, request.token);
            return ok(request.id);
        }
        }
    } catch (const xen::XenError& e) {
        return failed(request.id, e.errno_value());
    } catch (const std::exception& e) {
        spdlog::warn("xenstore proxy: {} {}: {}", op_name(request.kind), request.path, e.what());
    }
    return failed(request.id, EIO);
}

void XenStoreProxy::deny(const Request& request) {
    ++stats_.denied;
    // Recorded before the answer goes out: the refusal is on record by the time the backend
    // learns of it.
    const auto now = std::chrono::steady_clock::now();
    if (now - window_start_ >= kDenialAuditWindow) report_denials();
    if (window_audited_ < kMaxDenialAuditsPerWindow) {
        ++window_audited_;
        audit_("xenstore.denied", {{"op", op_name(request.kind)}, {"path", request.path}});
    } else {
        ++window_dropped_;
    }
    send(failed(request.id, EACCES));
}

void XenStoreProxy::report_denials() {
    const auto now = std::chrono::steady_clock::now();
    if (now - window_start_ < kDenialAuditWindow) return;
    if (window_dropped_ > 0) audit_("xenstore.denied-dropped", {{"count", window_dropped_}});
    window_start_ = now;
    window_audited_ = 0;
    window_dropped_ = 0;
}

void XenStoreProxy::arm_events() {
    std::weak_ptr<int> alive = alive_;
    store_events_.async_wait(asio::posix::stream_descriptor::wait_read, [this, alive](const boost::system::error_code& ec) {
        if (ec || alive.expired() || ended_) return;
        relay_events();
        if (alive.expired() || ended_) return;
        arm_events();
    });
}

bool XenStoreProxy::event_admitted(const xen::WatchEvent& event) const {
    if (!watches_.contains(event.token)) return false;
    if (event.path == "@releaseDomain" || event.path == type_dir_) return true;
    return admits(XenStoreOp::Read, event.path);
}

void XenStoreProxy::relay_events() {
    std::vector<xen::WatchEvent> events;
    try {
        events = store_->take_watch_events();
    } catch (const std::exception& e) {
        spdlog::error("xenstore proxy: reading watch events failed: {}", e.what());
        return;
    }
    for (auto& event : events) {
        if (!event_admitted(event) || !xenbus::wire::valid_path(event.path)) continue;
        ++stats_.events;
        Reply reply = ok(0, ReplyKind::Event);
        reply.path = std::move(event.path);
        reply.token = std::move(event.token);
        send(reply);
        if (ended_) return;
    }
}

void XenStoreProxy::send(const Reply& reply) {
    if (ended_) return;
    std::string frame;
    try {
        frame = xenbus::wire::encode(reply);
    } catch (const std::invalid_argument&) {
        // A listing or value that does not fit the wire: the request fails, nothing is cut.
        if (reply.kind == ReplyKind::Event) return;
        frame = xenbus::wire::encode(failed(reply.id, E2BIG));
    }
    outbox_bytes_ += frame.size();
    outbox_.push_back(std::move(frame));
    if (outbox_bytes_ > kMaxProxyOutboxBytes) {
        end("the backend stopped reading its xenstore link");
        return;
    }
    write_next();
}

void XenStoreProxy::write_next() {
    if (writing_ || outbox_.empty() || ended_) return;
    writing_ = true;
    std::weak_ptr<int> alive = alive_;
    asio::async_write(socket_, asio::buffer(outbox_.front()), [this, alive](const boost::system::error_code& ec, std::size_t) {
        if (alive.expired() || ended_) return;
        writing_ = false;
        outbox_bytes_ -= outbox_.front().size();
        outbox_.pop_front();
        if (ec) {
            end("xenstore link: " + ec.message());
            return;
        }
        write_next();
    });
}

void XenStoreProxy::end(const std::string& why) {
    if (ended_) return;
    ended_ = true;
    boost::system::error_code ignored;
    socket_.cancel(ignored);
    store_events_.cancel(ignored);
    // Posted: the owner may destroy this proxy from the callback.
    asio::post(socket_.get_executor(), [broken = broken_, why] { broken(why); });
}

} // namespace twofold::manager
