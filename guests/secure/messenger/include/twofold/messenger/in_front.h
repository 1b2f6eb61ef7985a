#pragma once
// Whether this persona is the one on the phone's screen, from the node dom0 writes for it
// (twofold/foreground in the persona's xenstore home: "1" in front, "0" not; docs/messaging.md,
// "Read markers"). The messenger sends a read marker only for a message a person can have
// seen: not while personal, or dom0's PIN prompt, is in front.
//
// InFrontState speaks xenstore's wire protocol over a byte stream (xen/io/xs_wire.h: a 16-byte
// header, then at most 4096 bytes of payload) without doing any I/O, so that it can be tested
// and fuzzed; InFrontWatch runs it on /dev/xen/xenbus.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace twofold::messenger {

class InFrontState {
 public:
  // The first bytes to write: a watch on the node (which fires once at once).
  [[nodiscard]] std::string start();
  // Bytes read from the stream; returns the bytes to write in answer (possibly none). A frame
  // that breaks the protocol (payload longer than 4096 bytes) makes the stream unusable:
  // broken() turns true and nothing more is parsed.
  [[nodiscard]] std::string feed(std::string_view bytes);

  // No node (a dom0 that does not write it) counts as in front: the messenger then marks as
  // before. Starts true for the same reason, until the first answer.
  [[nodiscard]] bool in_front() const noexcept { return in_front_; }
  [[nodiscard]] bool broken() const noexcept { return broken_; }
  // Values that were neither "0" nor "1" (ignored).
  [[nodiscard]] std::size_t refused() const noexcept { return refused_; }

 private:
  [[nodiscard]] std::string request(std::uint32_t type, std::string_view payload);

  std::string buffer_;
  std::uint32_t next_req_ = 1;
  std::uint32_t read_req_ = 0;  // the read in flight, 0 when none
  bool in_front_ = true;
  bool broken_ = false;
  std::size_t refused_ = 0;
};

class InFrontWatch {
 public:
  // nullptr when the device cannot be opened (the messenger on a host, not in a persona).
  [[nodiscard]] static std::unique_ptr<InFrontWatch> open(const std::string& device);
  // Takes ownership of fd (non-blocking, readable when xenstored has sent something).
  explicit InFrontWatch(int fd);
  ~InFrontWatch();
  InFrontWatch(const InFrontWatch&) = delete;
  InFrontWatch& operator=(const InFrontWatch&) = delete;

  // Reads what arrived, without blocking; true when in_front() changed.
  bool poll();
  [[nodiscard]] bool in_front() const noexcept { return state_.in_front(); }

 private:
  void send(const std::string& bytes);

  int fd_;
  InFrontState state_;
};

}  // namespace twofold::messenger
