#include "twofold/modem/mediator/console_channel.h"

#include <array>

namespace twofold::modem::mediator {

ConsoleChannel::PumpResult ConsoleChannel::pump(Mediator& mediator, PersonaIndex persona,
                                                Mediator::Clock::time_point now, std::size_t max_reads) {
  for (std::size_t reads = 0;; ++reads) {
    if (!pending_in_.empty()) {
      const std::size_t taken = mediator.from_persona(persona, pending_in_, now);
      pending_in_.erase(0, taken);
      // Not all taken: the mediator's queue for this persona is full; the ring waits.
      if (!pending_in_.empty()) return {};
    }
    if (reads == max_reads) return {std::nullopt, true};
    std::array<std::byte, kReadBudget> chunk{};
    const rings::ByteReadResult read = ring_.read_output(chunk);
    if (read.fault) return {read.fault, false};
    if (read.bytes == 0) return {};
    pending_in_.assign(reinterpret_cast<const char*>(chunk.data()), read.bytes);
  }
}

void ConsoleChannel::queue_output(std::string_view bytes) {
  if (pending_out_.size() + bytes.size() > kMaxPendingOutput) {
    dropped_output_ += bytes.size();
    return;
  }
  pending_out_ += bytes;
}

std::optional<rings::RingFault> ConsoleChannel::flush_output() {
  while (!pending_out_.empty()) {
    const auto src = std::as_bytes(std::span(pending_out_.data(), pending_out_.size()));
    const rings::ByteWriteResult written = ring_.write_input(src);
    if (written.fault) return written.fault;
    if (written.written == 0) return std::nullopt;
    pending_out_.erase(0, written.written);
  }
  return std::nullopt;
}

}  // namespace twofold::modem::mediator
