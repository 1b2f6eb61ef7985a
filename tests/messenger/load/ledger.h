#pragma once
// What the load test sent and received: one slot per (sender, message number), so a message
// is lost, duplicated or invented by the server can be told apart, and the latencies of
// messages that crossed the cluster from those that stayed on one node and from a unit's
// fanned-out channel messages.
#include <array>
#include <cstdint>
#include <vector>

#include "probe.h"

namespace twofold::messenger::load {

struct LatencyStats {
  std::size_t count = 0;
  double p50_ms = 0, p99_ms = 0, max_ms = 0;
};
// Nearest-rank percentiles over latencies in nanoseconds (sorts its argument's copy).
LatencyStats latency_stats(std::vector<std::int64_t> latencies_ns);

struct Summary {
  std::uint64_t sent = 0, received = 0, lost = 0, duplicated = 0, invented = 0;
  std::array<std::uint64_t, 4> rejected{};  // indexed by RejectKind
  LatencyStats all, cross_node, same_node, group;
  std::uint64_t rejected_total() const;
};

class Ledger {
 public:
  // node_of[i]: which server node officer i is connected to.
  Ledger(const RunShape& shape, std::vector<std::uint32_t> node_of);
  // Message `seq` of `sender` left for every one of recipients_of(sender, seq).
  void record_sent(std::uint32_t sender, std::uint32_t seq);
  enum class Receipt { fresh, duplicate, invented };
  Receipt record_received(const Probe& probe, std::int64_t now_ns);
  void record_rejection(RejectKind kind) { ++rejected_[static_cast<std::size_t>(kind)]; }
  std::uint64_t sent() const { return sent_; }
  std::uint64_t received() const { return received_; }
  Summary summary() const;

 private:
  enum class Slot : std::uint8_t { unsent, sent, received };
  RunShape shape_;
  std::vector<std::uint32_t> node_of_;
  std::vector<Slot> slots_;  // officers × messages_per_officer
  std::uint64_t sent_ = 0, received_ = 0, duplicated_ = 0, invented_ = 0;
  std::array<std::uint64_t, 4> rejected_{};
  std::vector<std::int64_t> cross_ns_, same_ns_, group_ns_;
  // One slot per delivery: (sender, seq, receiver's place in the sender's unit, 0 for a peer).
  std::size_t width() const { return shape_.unit_size >= 2 ? shape_.unit_size : 1; }
  std::size_t slot(std::uint32_t sender, std::uint32_t seq, std::uint32_t receiver) const {
    const std::size_t place = is_group_seq(shape_, seq) ? receiver % shape_.unit_size : 0;
    return (static_cast<std::size_t>(sender) * shape_.messages_per_officer + seq) * width() + place;
  }
};

}  // namespace twofold::messenger::load
