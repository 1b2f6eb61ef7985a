#pragma once
// A backend's end of the focus link, on the backend's io_context: says Hello, turns each Focus
// order into one call of the backend's handler and THEN answers Ack or Refuse, carries audit
// events up in order, and reports the manager's end closing (EOF: the backend exits; the
// manager restarts backends, never the reverse). Lines that do not parse are logged with the
// parser's message and ignored: nothing the manager sends makes this throw or stop serving.
#include <array>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/steady_timer.hpp>
#include <spdlog/logger.h>

#include "twofold/focus/audit_limiter.h"
#include "twofold/focus/focus_protocol.h"
#include "twofold/focus/line_splitter.h"
#include "twofold/xen/unique_fd.h"

namespace twofold::focus {

class FocusClient {
public:
    // Bytes waiting for the manager, the line being written included. A manager that stops
    // reading first fills the socket buffer, then this queue; a line that would not fit closes
    // the link as if the manager had gone (on_closed runs, the backend exits, the manager sees
    // EOF and restarts it). Nothing is dropped silently: an audit event is sent in order or
    // the link ends, and the backend's memory never grows with a stalled manager.
    static constexpr std::size_t kMaxQueuedBytes = 256 * 1024;

    // Applies the order, then returns nullopt (answered Ack) or why it could not (answered
    // Refuse; the reason is cut to the link's bound and to printable ASCII).
    using OnFocus = std::function<std::optional<std::string>(const Focus&)>;
    // Runs once, when the link ends: EOF, an I/O error, or a full queue.
    using OnClosed = std::function<void(const std::string& why)>;
    // A redraw of the PIN prompt (only the display backend sets one; others log and ignore it).
    using OnPromptUpdate = std::function<void(const PromptUpdate&)>;
    using OnNotice = std::function<void(const Notice&)>;

    // `link` is the backend's end of the manager's AF_UNIX stream socketpair (--focus-fd). The
    // handlers run on `io`'s thread and must not destroy the client.
    // Audit events are bounded per persona and kind by `limits` (AuditLimiter; the counted
    // excess goes up as `<backend>.audit-suppressed` summaries).
    FocusClient(boost::asio::io_context& io, xen::UniqueFd link, Hello hello, OnFocus on_focus, OnClosed on_closed,
                std::shared_ptr<spdlog::logger> log, AuditLimits limits = {});
    ~FocusClient();
    FocusClient(const FocusClient&) = delete;
    FocusClient& operator=(const FocusClient&) = delete;

    // Sends the Hello (ahead of any audit event queued before) and starts reading orders.
    void start();
    // Sends the event, or counts it for a summary when its persona and kind are over budget.
    void send(AuditEvent event);
    // A key typed into dom0's PIN prompt (the input backend, in prompt mode only). Never logged.
    void send(PromptKeyPress key);
    void on_prompt_update(OnPromptUpdate handler) { on_prompt_update_ = std::move(handler); }
    void on_notice(OnNotice handler) { on_notice_ = std::move(handler); }

    [[nodiscard]] bool open() const noexcept { return !closed_; }
    [[nodiscard]] std::size_t queued_bytes() const noexcept { return queued_bytes_; }
    [[nodiscard]] std::uint64_t audit_suppressed() const noexcept { return limiter_.suppressed_total(); }

private:
    void enqueue(const ToManager& message, std::size_t position);
    void write_next();
    void read_more();
    void on_line(std::string_view line);
    void close(const std::string& why);
    void arm_summaries();

    // A socket, not a plain descriptor: Asio sends with MSG_NOSIGNAL, so a manager that died is
    // an EPIPE here (the link closes, the backend exits cleanly), never a SIGPIPE.
    boost::asio::local::stream_protocol::socket socket_;
    OnFocus on_focus_;
    OnClosed on_closed_;
    OnPromptUpdate on_prompt_update_;
    OnNotice on_notice_;
    std::shared_ptr<spdlog::logger> log_;
    LineSplitter splitter_;
    AuditLimiter limiter_;
    boost::asio::steady_timer summary_timer_;
    std::array<char, 4096> read_buffer_{};
    std::deque<std::string> queue_; // formatted lines, not yet handed to Asio
    std::string in_flight_;         // the line Asio is writing; kept apart so the queue can change
    std::size_t queued_bytes_ = 0;
    bool started_ = false;
    bool answering_ = false; // inside on_focus_: what the backend sends waits behind the answer
    bool closed_ = false;
    // Completion handlers hold a weak reference: one that runs after destruction does nothing.
    std::shared_ptr<int> alive_ = std::make_shared<int>(0);
};

} // namespace twofold::focus
