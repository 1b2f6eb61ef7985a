#include "twofold/input/focus_client.h"

#include <boost/asio/buffer.hpp>
#include <boost/asio/write.hpp>

namespace twofold::input {

FocusClient::FocusClient(boost::asio::io_context& io, int fd, focus::Hello hello, OnFocus on_focus,
                         OnClosed on_closed, std::shared_ptr<spdlog::logger> log)
    : socket_(io, fd), hello_(std::move(hello)), on_focus_(std::move(on_focus)), on_closed_(std::move(on_closed)),
      log_(std::move(log)),
      splitter_(
          focus::kMaxLineBytes, [this](std::string_view line) { on_line(line); },
          [this](std::size_t dropped) { log_->warn("focus link: dropped an over-long line ({} bytes)", dropped); }) {}

FocusClient::~FocusClient() {
    boost::system::error_code ignored;
    socket_.cancel(ignored);
}

void FocusClient::start() {
    send(hello_);
    read_more();
}

void FocusClient::send(const focus::ToManager& message) {
    if (closed_) return;
    outbox_.push_back(focus::format(message) + "\n");
    if (!writing_) write_next();
}

void FocusClient::write_next() {
    if (outbox_.empty() || closed_) {
        writing_ = false;
        return;
    }
    writing_ = true;
    std::weak_ptr<int> alive = alive_;
    boost::asio::async_write(socket_, boost::asio::buffer(outbox_.front()),
                             [this, alive](const boost::system::error_code& error, std::size_t) {
                                 if (alive.expired() || error == boost::asio::error::operation_aborted) return;
                                 if (error) {
                                     log_->warn("focus link: write failed: {}", error.message());
                                     close();
                                     return;
                                 }
                                 outbox_.pop_front();
                                 write_next();
                             });
}

void FocusClient::read_more() {
    std::weak_ptr<int> alive = alive_;
    socket_.async_read_some(boost::asio::buffer(buffer_),
                            [this, alive](const boost::system::error_code& error, std::size_t bytes) {
                                if (alive.expired() || error == boost::asio::error::operation_aborted) return;
                                if (error) {
                                    // EOF: the manager is gone; it restarts us, never the reverse.
                                    if (error != boost::asio::error::eof) {
                                        log_->warn("focus link: read failed: {}", error.message());
                                    }
                                    close();
                                    return;
                                }
                                splitter_.feed(std::string_view(buffer_.data(), bytes));
                                if (!closed_) read_more();
                            });
}

void FocusClient::on_line(std::string_view line) {
    auto parsed = focus::parse_to_backend(line);
    if (const auto* error = std::get_if<focus::ParseError>(&parsed)) {
        log_->warn("focus link: ignoring a line: {}", error->message);
        return;
    }
    const auto& message = std::get<focus::ToBackend>(parsed);
    if (const auto* order = std::get_if<focus::Focus>(&message)) send(on_focus_(*order));
}

void FocusClient::close() {
    if (closed_) return;
    closed_ = true;
    if (on_closed_) on_closed_();
}

} // namespace twofold::input
