#pragma once
// One persona's modem endpoint on a Xen PV console page (xen/io/console.h): guest bytes
// from `out` into the mediator, the mediator's answers into `in`. Back-pressure reaches
// the guest: bytes the mediator did not take stay here (at most one read budget), and
// while they do the ring is not read, so a flooding guest fills its own ring and waits.
#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "twofold/modem/mediator/mediator.h"
#include "twofold/rings/byte_ring.h"

namespace twofold::modem::mediator {

class ConsoleChannel {
 public:
  static constexpr std::size_t kReadBudget = 512;
  // A guest that stops reading its `in` ring only loses its own answers beyond this.
  static constexpr std::size_t kMaxPendingOutput = 64 * 1024;

  explicit ConsoleChannel(std::span<std::byte> shared_page) : ring_(shared_page) {}

  // Without a bound a guest that keeps refilling its ring (garbage is answered at once, never
  // queued) would hold the backend's thread: at most this many reads per call by default.
  static constexpr std::size_t kDefaultMaxReads = 16;

  struct PumpResult {
    std::optional<rings::RingFault> fault;
    bool more_pending = false;  // the read budget ran out with bytes left in the ring
  };

  // Feeds guest bytes to the mediator until it stops taking them, the ring is empty or
  // `max_reads` reads were made. A ring fault (impossible indices) means the guest is
  // hostile: the caller disconnects it.
  PumpResult pump(Mediator& mediator, PersonaIndex persona, Mediator::Clock::time_point now,
                  std::size_t max_reads = kDefaultMaxReads);
  std::optional<rings::RingFault> pump_in(Mediator& mediator, PersonaIndex persona, Mediator::Clock::time_point now) {
    return pump(mediator, persona, now).fault;
  }
  // Bytes read from the ring that the mediator has not taken yet (its queue was full).
  bool holds_input() const noexcept { return !pending_in_.empty(); }
  // Queues bytes for the guest and writes what fits now.
  void queue_output(std::string_view bytes);
  std::optional<rings::RingFault> flush_output();

  std::size_t dropped_output() const noexcept { return dropped_output_; }
  std::size_t pending_output() const noexcept { return pending_out_.size(); }

 private:
  rings::ConsoleRing ring_;
  std::string pending_in_;
  std::string pending_out_;
  std::size_t dropped_output_ = 0;
};

}  // namespace twofold::modem::mediator
