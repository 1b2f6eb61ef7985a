#include "twofold/modem/backend/modem_line.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <system_error>

#include <boost/asio/buffer.hpp>
#include <boost/asio/write.hpp>

namespace twofold::modem::backend {
namespace {

[[noreturn]] void fail(const std::string& what) { throw std::system_error(errno, std::generic_category(), what); }

}  // namespace

unsigned baud_constant(unsigned baud) {
  switch (baud) {
    case 9600: return B9600;
    case 19200: return B19200;
    case 38400: return B38400;
    case 57600: return B57600;
    case 115200: return B115200;
    case 230400: return B230400;
    case 460800: return B460800;
    case 921600: return B921600;
    default: throw std::invalid_argument("unsupported baud rate " + std::to_string(baud));
  }
}

xen::UniqueFd open_modem_tty(const std::string& path, unsigned baud) {
  const unsigned speed = baud_constant(baud);
  // O_NOCTTY: the modem must never become our controlling terminal (a hangup would signal us).
  xen::UniqueFd fd(::open(path.c_str(), O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC));
  if (fd.get() < 0) fail("open " + path);
  termios tio{};
  if (::tcgetattr(fd.get(), &tio) != 0) fail("tcgetattr " + path);
  // Raw: no echo, no line editing, no CR/LF translation, no signals from the modem's bytes.
  ::cfmakeraw(&tio);
  tio.c_cflag |= CLOCAL | CREAD;  // ignore modem-control lines; a DCD drop is not our EOF
  tio.c_cc[VMIN] = 1;
  tio.c_cc[VTIME] = 0;
  if (::cfsetispeed(&tio, speed) != 0 || ::cfsetospeed(&tio, speed) != 0) fail("cfsetspeed " + path);
  if (::tcsetattr(fd.get(), TCSANOW, &tio) != 0) fail("tcsetattr " + path);
  // Whatever the modem said before we were here belongs to nobody's command.
  (void)::tcflush(fd.get(), TCIOFLUSH);
  return fd;
}

xen::UniqueFd connect_modem_socket(const std::string& path) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (path.size() >= sizeof address.sun_path) throw std::invalid_argument("socket path too long: " + path);
  std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
  xen::UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (fd.get() < 0) fail("socket");
  if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) fail("connect " + path);
  return fd;
}

ModemLine::ModemLine(boost::asio::io_context& io, xen::UniqueFd fd, OnBytes on_bytes, OnClosed on_closed)
    : stream_(xen::hand_over<boost::asio::posix::stream_descriptor>(fd, io)),
      on_bytes_(std::move(on_bytes)),
      on_closed_(std::move(on_closed)) {
  stream_.non_blocking(true);
}

void ModemLine::start() { read_more(); }

void ModemLine::read_more() {
  stream_.async_read_some(boost::asio::buffer(buffer_), [this](const boost::system::error_code& error, std::size_t n) {
    if (error == boost::asio::error::operation_aborted) return;
    if (error) {
      close(error == boost::asio::error::eof ? "the modem line closed" : "modem read failed: " + error.message());
      return;
    }
    on_bytes_(std::string_view(buffer_.data(), n));
    if (!closed_) read_more();
  });
}

void ModemLine::to_modem(std::string_view bytes) {
  if (closed_) return;
  if (pending_.size() + writing_.size() + bytes.size() > kMaxPendingWrite) {
    close("the modem stopped reading (write queue full)");
    return;
  }
  pending_ += bytes;
  if (writing_.empty()) write_more();
}

void ModemLine::write_more() {
  if (pending_.empty() || closed_) return;
  writing_ = std::exchange(pending_, {});
  boost::asio::async_write(stream_, boost::asio::buffer(writing_), [this](const boost::system::error_code& error, std::size_t) {
    if (error == boost::asio::error::operation_aborted) return;
    writing_.clear();
    if (error) {
      close("modem write failed: " + error.message());
      return;
    }
    write_more();
  });
}

void ModemLine::close(const std::string& why) {
  if (closed_) return;
  closed_ = true;
  boost::system::error_code ignored;
  stream_.cancel(ignored);
  on_closed_(why);
}

}  // namespace twofold::modem::backend
