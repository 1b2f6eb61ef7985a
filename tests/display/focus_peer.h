#pragma once
// The manager's side of the focus link in tests: a socketpair whose backend end goes to the
// backend (--focus-fd), and line reading/writing with the manager's own parser.
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <functional>
#include <stdexcept>
#include <string>

#include "twofold/focus/focus_protocol.h"

namespace twofold::display::testing {

struct SocketPair {
    int manager = -1;
    int backend = -1; // owned by the backend once handed over
    SocketPair() {
        int fds[2];
        if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) throw std::runtime_error("socketpair");
        manager = fds[0];
        backend = fds[1];
        ::fcntl(manager, F_SETFL, O_NONBLOCK);
    }
    ~SocketPair() { close_manager(); }
    SocketPair(const SocketPair&) = delete;
    SocketPair& operator=(const SocketPair&) = delete;
    void close_manager() {
        if (manager >= 0) ::close(manager);
        manager = -1;
    }
};

class FocusPeer {
public:
    // `run_until` runs the backend's io_context until the predicate holds (false on timeout).
    using RunUntil = std::function<bool(const std::function<bool()>&)>;

    FocusPeer(const SocketPair& link, RunUntil run_until) : link_(link), run_until_(std::move(run_until)) {}

    // The next line the backend sent, parsed as the manager parses it; throws on timeout.
    focus::ToManager next() {
        std::string line;
        const bool got = run_until_([&] {
            char buffer[1024];
            const ssize_t n = ::read(link_.manager, buffer, sizeof buffer);
            if (n > 0) received_.append(buffer, static_cast<std::size_t>(n));
            const auto newline = received_.find('\n');
            if (newline == std::string::npos) return false;
            line = received_.substr(0, newline);
            received_.erase(0, newline + 1);
            return true;
        });
        if (!got) throw std::runtime_error("no line from the backend");
        auto parsed = focus::parse_to_manager(line);
        if (const auto* error = std::get_if<focus::ParseError>(&parsed)) throw std::runtime_error(error->message);
        return std::get<focus::ToManager>(std::move(parsed));
    }

    // What was read past the last line next() returned.
    [[nodiscard]] const std::string& pending() const noexcept { return received_; }

    bool send(const focus::Focus& order) const {
        const std::string line = focus::format(focus::ToBackend{order}) + "\n";
        return ::write(link_.manager, line.data(), line.size()) == static_cast<ssize_t>(line.size());
    }

private:
    const SocketPair& link_;
    RunUntil run_until_;
    std::string received_;
};

} // namespace twofold::display::testing
