#pragma once
// The physical modem's serial line: a tty opened raw (cfmakeraw, the configured baud rate,
// no modem-control hangups) or, for twofold-modem-sim, a unix stream socket. Bytes read go to
// the mediator; the mediator's commands are written in order with a bounded queue.
#include <array>
#include <cstddef>
#include <deque>
#include <functional>
#include <string>
#include <string_view>
#include <utility>

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>

#include "twofold/modem/mediator/mediator.h"
#include "twofold/xen/unique_fd.h"

namespace twofold::modem::backend {

// Throw std::system_error naming the path.
xen::UniqueFd open_modem_tty(const std::string& path, unsigned baud);
xen::UniqueFd connect_modem_socket(const std::string& path);
// The termios speed constant for a baud rate; throws std::invalid_argument for others.
unsigned baud_constant(unsigned baud);

class ModemLine final : public mediator::ModemPort {
 public:
  // More than this unwritten means the modem stopped reading: the line is declared dead.
  static constexpr std::size_t kMaxPendingWrite = 64 * 1024;
  static constexpr std::size_t kReadChunk = 1024;

  using OnBytes = std::function<void(std::string_view)>;
  using OnClosed = std::function<void(const std::string& why)>;

  ModemLine(boost::asio::io_context& io, xen::UniqueFd fd, OnBytes on_bytes, OnClosed on_closed);
  ModemLine(const ModemLine&) = delete;
  ModemLine& operator=(const ModemLine&) = delete;

  void start();
  void to_modem(std::string_view bytes) override;

 private:
  void read_more();
  void write_more();
  void close(const std::string& why);

  boost::asio::posix::stream_descriptor stream_;
  OnBytes on_bytes_;
  OnClosed on_closed_;
  std::array<char, kReadChunk> buffer_{};
  std::string pending_;   // queued, not yet handed to the kernel
  std::string writing_;   // the write in progress
  bool closed_ = false;
};

}  // namespace twofold::modem::backend
