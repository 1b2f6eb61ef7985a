#include "twofold/modem/backend/focus_client.h"

#include <boost/asio/buffer.hpp>
#include <boost/asio/write.hpp>

namespace twofold::modem::backend {

FocusClient::FocusClient(boost::asio::io_context& io, UniqueFd fd, focus::Hello hello, OnFocus on_focus,
                         OnClosed on_closed, LogFunction log)
    : stream_(io, fd.release()),
      hello_(std::move(hello)),
      on_focus_(std::move(on_focus)),
      on_closed_(std::move(on_closed)),
      log_(std::move(log)),
      splitter_(
          focus::kMaxLineBytes, [this](std::string_view line) { on_line(line); },
          [this](std::size_t dropped) {
            log_("focus link: dropped an over-long line (" + std::to_string(dropped) + " bytes)");
          }) {
  stream_.non_blocking(true);
}

void FocusClient::start() {
  send(hello_);
  read_more();
}

void FocusClient::on_line(std::string_view line) {
  auto parsed = focus::parse_to_backend(line);
  if (auto* error = std::get_if<focus::ParseError>(&parsed)) {
    log_("focus link: refused a line from the manager: " + error->message);
    return;
  }
  const auto& order = std::get<focus::Focus>(std::get<focus::ToBackend>(parsed));
  // Applied first, answered after: the manager's ack means the modem already follows it.
  if (auto reason = on_focus_(order)) {
    send(focus::Refuse{order.epoch, *reason});
  } else {
    send(focus::Ack{order.epoch});
  }
}

void FocusClient::read_more() {
  stream_.async_read_some(boost::asio::buffer(buffer_), [this](const boost::system::error_code& error, std::size_t n) {
    if (error == boost::asio::error::operation_aborted) return;
    if (error) {
      close(error == boost::asio::error::eof ? "the manager closed the focus link" : "focus link read failed: " + error.message());
      return;
    }
    splitter_.feed(std::string_view(buffer_.data(), n));
    if (!closed_) read_more();
  });
}

void FocusClient::send(const focus::ToManager& message) {
  if (closed_) return;
  std::string line = focus::format(message) + "\n";
  while (!pending_.empty() && pending_bytes_ + line.size() > kMaxPendingBytes) {
    pending_bytes_ -= pending_.front().size();
    pending_.pop_front();
    ++dropped_lines_;
  }
  pending_bytes_ += line.size();
  pending_.push_back(std::move(line));
  if (writing_.empty()) write_more();
}

void FocusClient::write_more() {
  if (pending_.empty() || closed_) return;
  writing_ = std::move(pending_.front());
  pending_.pop_front();
  pending_bytes_ -= writing_.size();
  boost::asio::async_write(stream_, boost::asio::buffer(writing_), [this](const boost::system::error_code& error, std::size_t) {
    if (error == boost::asio::error::operation_aborted) return;
    writing_.clear();
    if (error) {
      close("focus link write failed: " + error.message());
      return;
    }
    write_more();
  });
}

void FocusClient::close(const std::string& why) {
  if (closed_) return;
  closed_ = true;
  boost::system::error_code ignored;
  stream_.cancel(ignored);
  on_closed_(why);
}

}  // namespace twofold::modem::backend
