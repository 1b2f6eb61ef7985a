#include "twofold/modem/sim/simulator.h"

#include <fcntl.h>
#include <termios.h>
#include <unistd.h>

#include <array>
#include <deque>
#include <filesystem>
#include <functional>
#include <system_error>

#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>

#include "twofold/modem/sim/control.h"
#include "twofold/xen/unique_fd.h"

namespace twofold::modem::sim {
namespace {

namespace asio = boost::asio;
using Local = asio::local::stream_protocol;
using ErrorCode = boost::system::error_code;

using twofold::xen::UniqueFd;

void throw_errno(const char* what) { throw std::system_error(errno, std::generic_category(), what); }

// Serialises async writes on one stream; a lab tool, but still bounded so a DTE that never
// reads cannot grow us without limit. The string being written stays at the queue's front
// until its write completes, and the write's handler holds `keep_alive` (the session that owns
// the stream and this queue): a session closed or dropped mid-write must not free either
// under the write (it did: a control client that hung up during a long reply crashed us).
template <typename Stream>
class WriteQueue {
 public:
  static constexpr std::size_t kMaxQueued = 1024;
  explicit WriteQueue(Stream& stream) : stream_(stream) {}
  void push(std::string bytes, std::shared_ptr<void> keep_alive, std::function<void()> on_error) {
    if (queue_.size() >= kMaxQueued) return;
    queue_.push_back(std::move(bytes));
    on_error_ = std::move(on_error);
    if (!writing_) write_next(std::move(keep_alive));
  }
  // Drops what is queued; a write in flight finishes (or fails) on its own.
  void clear() { queue_.erase(writing_ && !queue_.empty() ? std::next(queue_.begin()) : queue_.begin(), queue_.end()); }
  // Runs done() once everything queued so far has been written.
  void when_drained(std::function<void()> done) {
    if (queue_.empty()) {
      done();
    } else {
      on_drained_ = std::move(done);
    }
  }

 private:
  void write_next(std::shared_ptr<void> keep_alive) {
    writing_ = true;
    asio::async_write(stream_, asio::buffer(queue_.front()),
                      [this, keep_alive](ErrorCode error, std::size_t) {
                        writing_ = false;
                        if (error) {
                          queue_.clear();
                          if (on_error_) on_error_();
                          return;
                        }
                        queue_.pop_front();
                        if (!queue_.empty()) {
                          write_next(keep_alive);
                        } else if (on_drained_) {
                          std::exchange(on_drained_, nullptr)();
                        }
                      });
  }
  Stream& stream_;
  std::deque<std::string> queue_;
  bool writing_ = false;
  std::function<void()> on_error_;
  std::function<void()> on_drained_;
};

// One DTE connection on the unix socket. The newest connection replaces an older one, as
// when QEMU reconnects its chardev.
class DteSession : public std::enable_shared_from_this<DteSession> {
 public:
  DteSession(Local::socket socket, Modem& modem) : socket_(std::move(socket)), modem_(modem), writer_(socket_) {}
  void start() { read(); }
  void send(std::string_view bytes) {
    if (!socket_.is_open()) return;
    writer_.push(std::string(bytes), shared_from_this(), [self = weak_from_this()] {
      if (auto session = self.lock()) session->close();
    });
  }
  void close() {
    ErrorCode ignored;
    socket_.close(ignored);
    writer_.clear();
  }
  bool open() const { return socket_.is_open(); }

 private:
  void read() {
    socket_.async_read_some(asio::buffer(buffer_), [self = shared_from_this()](ErrorCode error, std::size_t n) {
      if (error) {
        self->close();
        return;
      }
      self->modem_.receive(std::string_view(self->buffer_.data(), n));
      self->read();
    });
  }
  Local::socket socket_;
  Modem& modem_;
  WriteQueue<Local::socket> writer_;
  std::array<char, 4096> buffer_{};
};

class ControlSession : public std::enable_shared_from_this<ControlSession> {
 public:
  ControlSession(Local::socket socket, Modem& modem)
      : socket_(std::move(socket)), modem_(modem), input_(kMaxControlLineLength + 1), writer_(socket_) {}
  void start() { read(); }

 private:
  void read() {
    asio::async_read_until(socket_, input_, '\n', [self = shared_from_this()](ErrorCode error, std::size_t n) {
      if (error) {  // EOF, or a line longer than the buffer allows
        ErrorCode ignored;
        self->socket_.close(ignored);
        return;
      }
      std::string line(asio::buffers_begin(self->input_.data()), asio::buffers_begin(self->input_.data()) + static_cast<std::ptrdiff_t>(n));
      self->input_.consume(n);
      self->writer_.push(handle_control_line(self->modem_, line) + "\n", self, [] {});
      self->read();
    });
  }
  Local::socket socket_;
  Modem& modem_;
  asio::streambuf input_;
  WriteQueue<Local::socket> writer_;
};

// Removes a stale socket file, binds, and removes the file again on destruction.
class SocketServer {
 public:
  using Handler = std::function<void(Local::socket)>;
  SocketServer(asio::io_context& io, std::string path, Handler handler)
      : path_(std::move(path)), acceptor_(io), handler_(std::move(handler)) {
    std::error_code ignored;
    std::filesystem::remove(path_, ignored);
    acceptor_.open();
    acceptor_.bind(Local::endpoint(path_));
    acceptor_.listen();
    accept();
  }
  ~SocketServer() {
    ErrorCode ignored;
    acceptor_.close(ignored);
    std::error_code also_ignored;
    std::filesystem::remove(path_, also_ignored);
  }

 private:
  void accept() {
    acceptor_.async_accept([this](ErrorCode error, Local::socket socket) {
      if (error == asio::error::operation_aborted) return;
      if (!error) handler_(std::move(socket));
      accept();
    });
  }
  std::string path_;
  Local::acceptor acceptor_;
  Handler handler_;
};

// The master side of a pseudo-terminal in raw mode. We hold the slave open ourselves so
// that reads do not fail with EIO while no DTE has it open.
class PtyPort {
 public:
  PtyPort(asio::io_context& io, Modem& modem) : master_(io), retry_(io), modem_(modem), writer_(master_) {
    UniqueFd master(::posix_openpt(O_RDWR | O_NOCTTY));
    if (master.get() < 0) throw_errno("posix_openpt");
    if (::grantpt(master.get()) != 0 || ::unlockpt(master.get()) != 0) throw_errno("grantpt/unlockpt");
    std::array<char, 128> name{};
    if (::ptsname_r(master.get(), name.data(), name.size()) != 0) throw_errno("ptsname_r");
    path_ = name.data();
    termios settings{};
    if (::tcgetattr(master.get(), &settings) != 0) throw_errno("tcgetattr");
    ::cfmakeraw(&settings);  // the modem echoes, not the tty layer; bytes pass untranslated
    if (::tcsetattr(master.get(), TCSANOW, &settings) != 0) throw_errno("tcsetattr");
    slave_ = UniqueFd(::open(path_.c_str(), O_RDWR | O_NOCTTY));
    if (slave_.get() < 0) throw_errno("open pty slave");
    master_.assign(master.release());
    read();
  }
  const std::string& path() const { return path_; }
  void send(std::string_view bytes) { writer_.push(std::string(bytes), nullptr, [] {}); }

 private:
  void read() {
    master_.async_read_some(asio::buffer(buffer_), [this](ErrorCode error, std::size_t n) {
      if (error == asio::error::operation_aborted) return;
      if (!error) {
        modem_.receive(std::string_view(buffer_.data(), n));
        read();
        return;
      }
      // A pty read error (e.g. EIO during a hangup) is transient for us: retry later
      // rather than spinning.
      retry_.expires_after(std::chrono::milliseconds(100));
      retry_.async_wait([this](ErrorCode wait_error) {
        if (!wait_error) read();
      });
    });
  }
  asio::posix::stream_descriptor master_;
  asio::steady_timer retry_;
  Modem& modem_;
  WriteQueue<asio::posix::stream_descriptor> writer_;
  UniqueFd slave_;
  std::string path_;
  std::array<char, 4096> buffer_{};
};

class StdioPort {
 public:
  StdioPort(asio::io_context& io, Modem& modem)
      : io_(io), in_(io, ::dup(STDIN_FILENO)), out_(io, ::dup(STDOUT_FILENO)), modem_(modem), writer_(out_) {
    read();
  }
  void send(std::string_view bytes) { writer_.push(std::string(bytes), nullptr, [] {}); }

 private:
  void read() {
    in_.async_read_some(asio::buffer(buffer_), [this](ErrorCode error, std::size_t n) {
      if (error) {
        // stdin closed: answer what was asked, then we are done
        if (error != asio::error::operation_aborted) writer_.when_drained([this] { io_.stop(); });
        return;
      }
      modem_.receive(std::string_view(buffer_.data(), n));
      read();
    });
  }
  asio::io_context& io_;
  asio::posix::stream_descriptor in_;
  asio::posix::stream_descriptor out_;
  Modem& modem_;
  WriteQueue<asio::posix::stream_descriptor> writer_;
  std::array<char, 4096> buffer_{};
};

}  // namespace

class Simulator::Impl {
 public:
  Impl(asio::io_context& io, SimulatorOptions options)
      : options_(std::move(options)), modem_([this](std::string_view bytes) { to_dte(bytes); }, options_.modem),
        ring_timer_(io) {
    switch (options_.transport) {
      case SimulatorOptions::Transport::kUnixSocket:
        dte_server_.emplace(io, options_.socket_path, [this](Local::socket socket) {
          if (auto old = dte_.lock()) old->close();
          auto session = std::make_shared<DteSession>(std::move(socket), modem_);
          dte_ = session;
          session->start();
        });
        break;
      case SimulatorOptions::Transport::kPty:
        pty_.emplace(io, modem_);
        if (options_.pty_link) {
          std::error_code ignored;
          std::filesystem::remove(*options_.pty_link, ignored);
          std::filesystem::create_symlink(pty_->path(), *options_.pty_link);
        }
        break;
      case SimulatorOptions::Transport::kStdio:
        stdio_.emplace(io, modem_);
        break;
    }
    if (options_.control_path) {
      control_server_.emplace(io, *options_.control_path, [this](Local::socket socket) {
        std::make_shared<ControlSession>(std::move(socket), modem_)->start();
      });
    }
    schedule_ring();
  }
  ~Impl() {
    if (options_.pty_link) {
      std::error_code ignored;
      std::filesystem::remove(*options_.pty_link, ignored);
    }
  }

  std::string pty_path() const { return pty_ ? pty_->path() : std::string{}; }
  Modem& modem() { return modem_; }

 private:
  void to_dte(std::string_view bytes) {
    if (auto session = dte_.lock()) session->send(bytes);
    if (pty_) pty_->send(bytes);
    if (stdio_) stdio_->send(bytes);
  }
  void schedule_ring() {
    ring_timer_.expires_after(options_.ring_interval);
    ring_timer_.async_wait([this](ErrorCode error) {
      if (error) return;
      modem_.ring_tick();
      schedule_ring();
    });
  }

  SimulatorOptions options_;
  Modem modem_;
  asio::steady_timer ring_timer_;
  std::optional<SocketServer> dte_server_;
  std::weak_ptr<DteSession> dte_;
  std::optional<PtyPort> pty_;
  std::optional<StdioPort> stdio_;
  std::optional<SocketServer> control_server_;
};

Simulator::Simulator(asio::io_context& io, SimulatorOptions options)
    : impl_(std::make_unique<Impl>(io, std::move(options))) {}
Simulator::~Simulator() = default;
std::string Simulator::pty_path() const { return impl_->pty_path(); }
Modem& Simulator::modem() { return impl_->modem(); }

}  // namespace twofold::modem::sim
