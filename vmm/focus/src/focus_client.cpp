#include "twofold/focus/focus_client.h"

#include <algorithm>
#include <utility>

#include <boost/asio/buffer.hpp>
#include <boost/asio/write.hpp>

namespace twofold::focus {
namespace {

// A refusal reason may carry a guest's bytes. The manager refuses a Refuse whose reason
// exceeds kMaxReasonBytes, and format() widens invalid UTF-8 (one byte to three), so the reason
// is narrowed to printable ASCII first and then cut: the answer always reaches the manager.
std::string bounded_reason(std::string_view reason) {
    std::string out;
    out.reserve(std::min(reason.size(), kMaxReasonBytes));
    for (const char c : reason) {
        if (out.size() == kMaxReasonBytes) break;
        out.push_back(c >= 0x20 && c <= 0x7e ? c : '?');
    }
    return out;
}

} // namespace

FocusClient::FocusClient(boost::asio::io_context& io, xen::UniqueFd link, Hello hello, OnFocus on_focus,
                         OnClosed on_closed, std::shared_ptr<spdlog::logger> log, AuditLimits limits)
    : socket_(xen::hand_over<boost::asio::local::stream_protocol::socket>(link, io, boost::asio::local::stream_protocol())),
      on_focus_(std::move(on_focus)), on_closed_(std::move(on_closed)), log_(std::move(log)),
      splitter_(
          kMaxLineBytes, [this](std::string_view line) { on_line(line); },
          [this](std::size_t dropped) {
              log_->warn("focus link: dropped an over-long line from the manager ({} bytes)", dropped);
          }),
      limiter_(hello.backend, limits), summary_timer_(io) {
    // Asio would switch the descriptor to non-blocking (an ioctl) at its first operation; done
    // here, that happens before the backend installs its seccomp allowlist.
    socket_.non_blocking(true);
    enqueue(ToManager{std::move(hello)}, 0);
}

FocusClient::~FocusClient() {
    alive_.reset();
    boost::system::error_code ignored;
    summary_timer_.cancel();
    socket_.cancel(ignored);
}

void FocusClient::start() {
    if (started_ || closed_) return;
    started_ = true;
    write_next();
    read_more();
    arm_summaries();
}

void FocusClient::send(AuditEvent event) {
    if (!limiter_.admit(event, AuditLimiter::Clock::now())) return; // counted for a summary
    enqueue(ToManager{std::move(event)}, queue_.size());
}

void FocusClient::send(PromptKeyPress key) { enqueue(ToManager{key}, queue_.size()); }

// Once a second: the suppression summaries that are due (each pair at most once per
// AuditLimits::summary_every).
void FocusClient::arm_summaries() {
    if (closed_) return;
    summary_timer_.expires_after(std::chrono::seconds(1));
    summary_timer_.async_wait([this, alive = std::weak_ptr<int>(alive_)](const boost::system::error_code& error) {
        if (alive.expired() || error) return;
        for (auto& summary : limiter_.due(AuditLimiter::Clock::now())) {
            log_->warn("audit: {} {} events of {} suppressed over budget", summary.fields.value("suppressed", 0),
                       summary.fields.value("kind", std::string()), summary.fields.value("persona", std::string("no persona")));
            enqueue(ToManager{std::move(summary)}, queue_.size());
        }
        arm_summaries();
    });
}

void FocusClient::enqueue(const ToManager& message, std::size_t position) {
    if (closed_) return;
    std::string line = format(message) + "\n";
    if (queued_bytes_ + line.size() > kMaxQueuedBytes) {
        close("the manager stopped reading (" + std::to_string(queued_bytes_) + " bytes queued)");
        return;
    }
    queued_bytes_ += line.size();
    position = std::min(position, queue_.size());
    queue_.insert(queue_.begin() + static_cast<std::ptrdiff_t>(position), std::move(line));
    write_next();
}

void FocusClient::write_next() {
    if (!started_ || answering_ || closed_ || !in_flight_.empty() || queue_.empty()) return;
    in_flight_ = std::move(queue_.front());
    queue_.pop_front();
    boost::asio::async_write(socket_, boost::asio::buffer(in_flight_),
                             [this, alive = std::weak_ptr<int>(alive_)](const boost::system::error_code& error,
                                                                        std::size_t) {
                                 if (alive.expired() || error == boost::asio::error::operation_aborted) return;
                                 queued_bytes_ -= in_flight_.size();
                                 in_flight_.clear();
                                 if (error) {
                                     close("write to the manager failed: " + error.message());
                                     return;
                                 }
                                 write_next();
                             });
}

void FocusClient::read_more() {
    socket_.async_read_some(boost::asio::buffer(read_buffer_),
                            [this, alive = std::weak_ptr<int>(alive_)](const boost::system::error_code& error,
                                                                       std::size_t bytes) {
                                if (alive.expired() || error == boost::asio::error::operation_aborted) return;
                                if (error == boost::asio::error::eof) {
                                    close("the manager closed the focus link");
                                    return;
                                }
                                if (error) {
                                    close("read from the manager failed: " + error.message());
                                    return;
                                }
                                splitter_.feed(std::string_view(read_buffer_.data(), bytes));
                                if (!closed_) read_more();
                            });
}

void FocusClient::on_line(std::string_view line) {
    if (closed_) return;
    auto parsed = parse_to_backend(line);
    if (const auto* error = std::get_if<ParseError>(&parsed)) {
        // The manager is dom0's own, but a line that does not parse is never acted on.
        log_->warn("focus link: refused a line from the manager: {}", error->message);
        return;
    }
    auto message = std::get<ToBackend>(std::move(parsed));
    if (const auto* update = std::get_if<PromptUpdate>(&message)) {
        if (on_prompt_update_) {
            on_prompt_update_(*update);
        } else {
            log_->warn("focus link: a prompt update for a backend that draws no prompt; ignored");
        }
        return;
    }
    if (const auto* notice = std::get_if<Notice>(&message)) {
        if (on_notice_) {
            on_notice_(*notice);
        } else {
            log_->warn("focus link: a notice for a backend that draws no strip; ignored");
        }
        return;
    }
    const Focus order = std::get<Focus>(std::move(message));
    // The answer goes out ahead of whatever the backend reports while applying the order (its
    // audit events): the manager's switch waits on the answer, not on the audit trail.
    const std::size_t answer_at = queue_.size();
    answering_ = true;
    const std::optional<std::string> refusal = on_focus_(order);
    answering_ = false;
    if (refusal) {
        enqueue(ToManager{Refuse{order.epoch, bounded_reason(*refusal)}}, answer_at);
    } else {
        enqueue(ToManager{Ack{order.epoch}}, answer_at);
    }
}

void FocusClient::close(const std::string& why) {
    if (closed_) return;
    closed_ = true;
    answering_ = false;
    boost::system::error_code ignored;
    summary_timer_.cancel();
    socket_.cancel(ignored); // a write in flight still points into in_flight_, which stays
    // The manager sees EOF now, even while the backend is still winding down.
    socket_.shutdown(boost::asio::socket_base::shutdown_both, ignored);
    for (const auto& line : queue_) queued_bytes_ -= line.size();
    queue_.clear();
    if (on_closed_) on_closed_(why);
}

} // namespace twofold::focus
