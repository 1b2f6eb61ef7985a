#pragma once
// The simulator process: one Modem behind one DTE transport (unix socket server, pty or
// stdio) plus an optional control socket, all on one Asio io_context (single-threaded, so
// the Modem needs no locking).
#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include <boost/asio/io_context.hpp>

#include "twofold/modem/sim/modem.h"

namespace twofold::modem::sim {

struct SimulatorOptions {
  enum class Transport { kUnixSocket, kPty, kStdio };
  Transport transport = Transport::kUnixSocket;
  std::string socket_path;                  // kUnixSocket
  std::optional<std::string> pty_link;      // kPty: also make this symlink to the pty
  std::optional<std::string> control_path;  // control channel socket
  std::chrono::milliseconds ring_interval{3000};
  ModemOptions modem;
};

class Simulator {
 public:
  // Binds sockets / opens the pty; throws std::system_error when that fails.
  Simulator(boost::asio::io_context& io, SimulatorOptions options);
  ~Simulator();
  Simulator(const Simulator&) = delete;
  Simulator& operator=(const Simulator&) = delete;

  // The slave side of the pty (kPty only), e.g. "/dev/pts/3".
  std::string pty_path() const;
  Modem& modem();

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace twofold::modem::sim
