#include "twofold/display/focus_client.h"

#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <utility>

namespace twofold::display {

FocusClient::FocusClient(boost::asio::io_context& io, int fd, std::shared_ptr<spdlog::logger> log, OnFocus on_focus,
                         OnClosed on_closed)
    : stream_(io, boost::asio::local::stream_protocol(), fd), log_(std::move(log)), on_focus_(std::move(on_focus)), on_closed_(std::move(on_closed)),
      splitter_(
          focus::kMaxLineBytes, [this](std::string_view line) { on_line(line); },
          [this](std::size_t dropped) { log_->warn("focus link: over-long line from the manager dropped ({} bytes)", dropped); }),
      self_(std::make_shared<FocusClient*>(this)) {}

FocusClient::~FocusClient() {
    self_.reset();
    boost::system::error_code ignored;
    stream_.close(ignored);
}

void FocusClient::start(const focus::Hello& hello) {
    send(focus::ToManager{hello});
    read_more();
}

void FocusClient::send(const focus::ToManager& message) {
    if (closed_) return;
    if (outgoing_.size() >= kMaxQueuedFocusLines) {
        close("the manager stopped reading (" + std::to_string(kMaxQueuedFocusLines) + " lines queued)");
        return;
    }
    outgoing_.push_back(focus::format(message) + "\n");
    if (!writing_) write_next();
}

void FocusClient::write_next() {
    if (closed_ || outgoing_.empty()) {
        writing_ = false;
        return;
    }
    writing_ = true;
    boost::asio::async_write(stream_, boost::asio::buffer(outgoing_.front()),
                             [weak = std::weak_ptr<FocusClient*>(self_)](const boost::system::error_code& error,
                                                                         std::size_t) {
                                 const auto self = weak.lock();
                                 if (!self) return;
                                 FocusClient& client = **self;
                                 if (error) {
                                     client.close("write: " + error.message());
                                     return;
                                 }
                                 client.outgoing_.pop_front();
                                 client.write_next();
                             });
}

void FocusClient::read_more() {
    if (closed_) return;
    stream_.async_read_some(boost::asio::buffer(read_buffer_),
                            [weak = std::weak_ptr<FocusClient*>(self_)](const boost::system::error_code& error,
                                                                        std::size_t bytes) {
                                const auto self = weak.lock();
                                if (!self) return;
                                FocusClient& client = **self;
                                if (error == boost::asio::error::eof) {
                                    client.close("the manager closed the focus link");
                                    return;
                                }
                                if (error) {
                                    client.close("read: " + error.message());
                                    return;
                                }
                                client.splitter_.feed(std::string_view(client.read_buffer_.data(), bytes));
                                client.read_more();
                            });
}

void FocusClient::on_line(std::string_view line) {
    if (closed_) return;
    auto parsed = focus::parse_to_backend(line);
    if (const auto* error = std::get_if<focus::ParseError>(&parsed)) {
        // The manager is dom0's own, but a bad line is still only logged, never acted on.
        log_->warn("focus link: line from the manager refused: {}", error->message);
        return;
    }
    const auto& message = std::get<focus::ToBackend>(parsed);
    if (const auto* order = std::get_if<focus::Focus>(&message)) {
        if (on_focus_) on_focus_(*order);
    }
}

void FocusClient::close(const std::string& why) {
    if (closed_) return;
    closed_ = true;
    boost::system::error_code ignored;
    stream_.cancel(ignored); // before the queue goes: a write in flight points into it
    outgoing_.clear();
    if (on_closed_) on_closed_(why);
}

} // namespace twofold::display
