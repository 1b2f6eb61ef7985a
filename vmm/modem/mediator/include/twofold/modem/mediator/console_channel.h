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

  // Feeds guest bytes to the mediator until it stops taking them or the ring is empty.
  // A ring fault (impossible indices) means the guest is hostile: the caller disconnects it.
  std::optional<rings::RingFault> pump_in(Mediator& mediator, PersonaIndex persona, Mediator::Clock::time_point now);
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
