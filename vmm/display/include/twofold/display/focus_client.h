#pragma once
// The backend's end of the focus link (vmm/focus): sends Hello, reads Focus orders line by line
// on the backend's io_context, and sends acks, refusals and audit events in order. Writes are
// queued and bounded: a manager that stops reading is treated like one that went away, because
// the manager restarts backends and a backend must never block its guests on the manager.
#include <array>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <spdlog/logger.h>

#include "twofold/focus/focus_protocol.h"
#include "twofold/focus/line_splitter.h"

namespace twofold::display {

inline constexpr std::size_t kMaxQueuedFocusLines = 256;

class FocusClient {
public:
    using OnFocus = std::function<void(const focus::Focus&)>;
    // Called once, when the link ends (EOF, error, or a manager that stopped reading).
    using OnClosed = std::function<void(const std::string& why)>;

    // Takes ownership of `fd` (the --focus-fd end of the manager's AF_UNIX socketpair).
    FocusClient(boost::asio::io_context& io, int fd, std::shared_ptr<spdlog::logger> log, OnFocus on_focus,
                OnClosed on_closed);
    ~FocusClient();
    FocusClient(const FocusClient&) = delete;
    FocusClient& operator=(const FocusClient&) = delete;

    // Sends `hello` first, then starts reading orders.
    void start(const focus::Hello& hello);
    void send(const focus::ToManager& message);
    [[nodiscard]] bool open() const noexcept { return !closed_; }

private:
    void read_more();
    void write_next();
    void on_line(std::string_view line);
    void close(const std::string& why);

    // A socket, not a plain descriptor: Asio sends with MSG_NOSIGNAL, so a manager that died
    // is an EPIPE here (the link closes, the backend exits cleanly) and never a SIGPIPE.
    boost::asio::local::stream_protocol::socket stream_;
    std::shared_ptr<spdlog::logger> log_;
    OnFocus on_focus_;
    OnClosed on_closed_;
    focus::LineSplitter splitter_;
    std::array<char, 4096> read_buffer_{};
    std::deque<std::string> outgoing_;
    bool writing_ = false;
    bool closed_ = false;
    // Completion handlers hold a weak reference: one that runs after destruction does nothing.
    std::shared_ptr<FocusClient*> self_;
};

} // namespace twofold::display
