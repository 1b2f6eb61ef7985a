#include "twofold/manager/control_server.h"

#include <grp.h>
#include <pwd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <vector>

#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <spdlog/spdlog.h>

namespace twofold::manager::control {

namespace asio = boost::asio;
using Socket = asio::local::stream_protocol::socket;

bool is_authorized(const PeerCredentials& peer, const AccessRule& rule) {
    if (peer.uid == 0) {
        return true;
    }
    if (!rule.group) {
        return false;
    }
    if (peer.gid == *rule.group) {
        return true;
    }
    // Supplementary groups are not in SO_PEERCRED: look them up for the peer's user.
    std::vector<char> buffer(16384);
    passwd pw{};
    passwd* found = nullptr;
    if (getpwuid_r(peer.uid, &pw, buffer.data(), buffer.size(), &found) != 0 || found == nullptr) {
        return false;
    }
    int count = 64;
    std::vector<gid_t> groups(static_cast<std::size_t>(count));
    if (getgrouplist(pw.pw_name, pw.pw_gid, groups.data(), &count) < 0) {
        groups.resize(static_cast<std::size_t>(count));
        if (getgrouplist(pw.pw_name, pw.pw_gid, groups.data(), &count) < 0) {
            return false;
        }
    }
    groups.resize(static_cast<std::size_t>(count));
    return std::find(groups.begin(), groups.end(), *rule.group) != groups.end();
}

std::optional<PeerCredentials> peer_credentials(int socket_fd) {
    ucred cred{};
    socklen_t len = sizeof(cred);
    if (getsockopt(socket_fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 || len != sizeof(cred)) {
        return std::nullopt;
    }
    return PeerCredentials{cred.pid, cred.uid, cred.gid};
}

// One client connection: reads a line, answers it, reads the next. Answers keep request
// order because a new line is read only after the previous answer was written.
class ControlServer::Session : public std::enable_shared_from_this<Session> {
public:
    Session(Socket socket, PeerCredentials peer, RequestHandler& handler)
        : socket_(std::move(socket)), peer_(peer), handler_(handler), buffer_(kMaxRequestBytes + 1) {}

    void read_next() {
        asio::async_read_until(socket_, buffer_, '\n', [self = shared_from_this()](auto ec, std::size_t n) {
            self->on_line(ec, n);
        });
    }

private:
    void on_line(const boost::system::error_code& ec, std::size_t n) {
        if (ec == asio::error::not_found) {
            // The buffer filled without a newline: refuse and close, there is no resync point.
            write(make_error_response({"too-large", "request exceeds " + std::to_string(kMaxRequestBytes) + " bytes", {}}),
                  /*then_close=*/true);
            return;
        }
        if (ec) {
            return; // client went away
        }
        std::string line(asio::buffers_begin(buffer_.data()), asio::buffers_begin(buffer_.data()) + static_cast<std::ptrdiff_t>(n - 1));
        buffer_.consume(n);
        auto parsed = parse_request(line);
        if (auto* err = std::get_if<ProtocolError>(&parsed)) {
            spdlog::warn("control: pid {} uid {}: {}: {}", peer_.pid, peer_.uid, err->code, err->message);
            write(make_error_response(*err), false);
            return;
        }
        const auto request = std::get<Request>(std::move(parsed));
        handler_.handle(request, peer_, [self = shared_from_this(), id = request.id](Reply reply) {
            if (reply.ok) {
                self->write(make_ok_response(id, reply.result), false);
            } else {
                self->write(make_error_response({reply.error_code, reply.error_message, id}), false);
            }
        });
    }

    void write(std::string text, bool then_close) {
        auto data = std::make_shared<std::string>(std::move(text));
        asio::async_write(socket_, asio::buffer(*data), [self = shared_from_this(), data, then_close](auto ec, std::size_t) {
            if (!ec && !then_close) {
                self->read_next();
            }
        });
    }

    Socket socket_;
    PeerCredentials peer_;
    RequestHandler& handler_;
    asio::streambuf buffer_;
};

ControlServer::ControlServer(asio::io_context& io, std::filesystem::path path, AccessRule rule, RequestHandler& handler)
    : path_(std::move(path)), rule_(rule), handler_(handler), acceptor_(io) {
    std::error_code ignored;
    std::filesystem::remove(path_, ignored); // a stale socket from a killed manager
    const mode_t old_mask = ::umask(0117);   // the socket is born 0660: no window with wider access
    acceptor_.open();
    acceptor_.bind(asio::local::stream_protocol::endpoint(path_.string()));
    ::umask(old_mask);
    if (rule_.group && ::chown(path_.c_str(), 0, *rule_.group) != 0) {
        spdlog::warn("control: cannot give {} to group {}: only root can use it", path_.string(), *rule_.group);
    }
    acceptor_.listen();
    accept();
}

ControlServer::~ControlServer() {
    boost::system::error_code ignored;
    acceptor_.close(ignored);
    std::error_code ignored2;
    std::filesystem::remove(path_, ignored2);
}

void ControlServer::accept() {
    acceptor_.async_accept([this](const boost::system::error_code& ec, Socket socket) {
        if (ec == asio::error::operation_aborted) {
            return;
        }
        if (!ec) {
            const auto peer = peer_credentials(socket.native_handle());
            if (!peer || !is_authorized(*peer, rule_)) {
                spdlog::warn("control: refused connection from uid {}", peer ? static_cast<long>(peer->uid) : -1L);
                const std::string refusal = make_error_response({"forbidden", "not root and not in the control group", {}});
                boost::system::error_code ignored;
                asio::write(socket, asio::buffer(refusal), ignored);
            } else {
                std::make_shared<Session>(std::move(socket), *peer, handler_)->read_next();
            }
        }
        accept();
    });
}

} // namespace twofold::manager::control
