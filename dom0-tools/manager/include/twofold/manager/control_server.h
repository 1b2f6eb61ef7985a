#pragma once
// The manager's control socket: a Unix stream socket, one JSON request per line, answered in
// order. Every connection's peer is identified by SO_PEERCRED (the kernel's word, not the
// client's) and must be root or a member of the configured group.
#include <sys/types.h>

#include <filesystem>
#include <functional>
#include <memory>
#include <optional>

#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>

#include "twofold/manager/control_protocol.h"

namespace twofold::manager::control {

struct PeerCredentials {
    pid_t pid = 0;
    uid_t uid = 0;
    gid_t gid = 0;
};

struct AccessRule {
    std::optional<gid_t> group; // members (primary or supplementary) may use the socket
};

// Root is always allowed; otherwise the peer's primary or supplementary groups must contain
// the rule's group.
[[nodiscard]] bool is_authorized(const PeerCredentials& peer, const AccessRule& rule);
[[nodiscard]] std::optional<PeerCredentials> peer_credentials(int socket_fd);

struct Reply {
    bool ok = true;
    nlohmann::json result;       // when ok (a keystore refusal keeps its answer here too)
    std::string error_code;      // when !ok
    std::string error_message;   // when !ok
};

// Handles one parsed request; calls `done` exactly once (possibly later, e.g. after a switch
// was acknowledged by every backend).
class RequestHandler {
public:
    virtual ~RequestHandler() = default;
    virtual void handle(const Request& request, const PeerCredentials& peer, std::function<void(Reply)> done) = 0;
};

class ControlServer {
public:
    // Creates the socket at `path` (replacing a stale one), mode 0660, group from the rule.
    ControlServer(boost::asio::io_context& io, std::filesystem::path path, AccessRule rule, RequestHandler& handler);
    ~ControlServer();
    ControlServer(const ControlServer&) = delete;
    ControlServer& operator=(const ControlServer&) = delete;

    [[nodiscard]] const std::filesystem::path& path() const noexcept { return path_; }

private:
    class Session;
    void accept();

    std::filesystem::path path_;
    AccessRule rule_;
    RequestHandler& handler_;
    boost::asio::local::stream_protocol::acceptor acceptor_;
};

} // namespace twofold::manager::control
