#pragma once
// The backend's end of the focus link (vmm/focus: one JSON object per line on the fd the
// manager passed as --focus-fd). Sends Hello{modem, holds ModemAudio} at start, applies each
// Focus order through a callback and THEN answers Ack (or Refuse with the callback's reason),
// and carries audit events up. EOF means the manager is gone: on_closed runs once.
#include <array>
#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>

#include "twofold/focus/focus_protocol.h"
#include "twofold/focus/line_splitter.h"
#include "twofold/modem/backend/modem_line.h"

namespace twofold::modem::backend {

class FocusClient {
 public:
  // A manager that stops reading must not make us buffer without bound: beyond this the
  // oldest unsent audit lines are dropped (and counted) rather than the link blocking.
  static constexpr std::size_t kMaxPendingBytes = 256 * 1024;

  // nullopt: applied (Ack); a string: the reason for a Refuse.
  using OnFocus = std::function<std::optional<std::string>(const focus::Focus&)>;
  using OnClosed = std::function<void(const std::string& why)>;
  using LogFunction = std::function<void(const std::string&)>;

  FocusClient(boost::asio::io_context& io, UniqueFd fd, focus::Hello hello, OnFocus on_focus, OnClosed on_closed,
              LogFunction log);
  FocusClient(const FocusClient&) = delete;
  FocusClient& operator=(const FocusClient&) = delete;

  void start();
  void send(const focus::ToManager& message);
  [[nodiscard]] std::size_t dropped_lines() const noexcept { return dropped_lines_; }

 private:
  void on_line(std::string_view line);
  void read_more();
  void write_more();
  void close(const std::string& why);

  boost::asio::posix::stream_descriptor stream_;
  focus::Hello hello_;
  OnFocus on_focus_;
  OnClosed on_closed_;
  LogFunction log_;
  focus::LineSplitter splitter_;
  std::array<char, 4096> buffer_{};
  std::deque<std::string> pending_;
  std::size_t pending_bytes_ = 0;
  std::string writing_;
  std::size_t dropped_lines_ = 0;
  bool closed_ = false;
};

}  // namespace twofold::modem::backend
