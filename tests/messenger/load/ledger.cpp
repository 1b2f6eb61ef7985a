#include "ledger.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace twofold::messenger::load {

LatencyStats latency_stats(std::vector<std::int64_t> ns) {
  LatencyStats s;
  s.count = ns.size();
  if (ns.empty()) return s;
  std::sort(ns.begin(), ns.end());
  const auto rank = [&](double p) {
    const auto r = static_cast<std::size_t>(std::ceil(p * static_cast<double>(ns.size())));
    return static_cast<double>(ns[std::clamp<std::size_t>(r, 1, ns.size()) - 1]) / 1e6;
  };
  s.p50_ms = rank(0.50);
  s.p99_ms = rank(0.99);
  s.max_ms = static_cast<double>(ns.back()) / 1e6;
  return s;
}

std::uint64_t Summary::rejected_total() const {
  std::uint64_t total = 0;
  for (auto n : rejected) total += n;
  return total;
}

Ledger::Ledger(const RunShape& shape, std::vector<std::uint32_t> node_of)
    : shape_(shape), node_of_(std::move(node_of)),
      slots_(static_cast<std::size_t>(shape.officers) * shape.messages_per_officer * width(), Slot::unsent) {
  if (node_of_.size() != shape_.officers) throw std::invalid_argument("ledger: one node per officer");
}

void Ledger::record_sent(std::uint32_t sender, std::uint32_t seq) {
  for (const std::uint32_t receiver : recipients_of(shape_, sender, seq)) {
    auto& s = slots_.at(slot(sender, seq, receiver));
    if (s != Slot::unsent) throw std::logic_error("ledger: message sent twice");
    s = Slot::sent;
    ++sent_;
  }
}

Ledger::Receipt Ledger::record_received(const Probe& probe, std::int64_t now_ns) {
  // parse_probe bounded sender and seq by the run's shape.
  auto& s = slots_.at(slot(probe.sender, probe.seq, probe.receiver));
  if (s == Slot::unsent) {
    ++invented_;
    return Receipt::invented;
  }
  if (s == Slot::received) {
    ++duplicated_;
    return Receipt::duplicate;
  }
  s = Slot::received;
  ++received_;
  const bool cross = node_of_.at(probe.sender) != node_of_.at(probe.receiver);
  (probe.group ? group_ns_ : cross ? cross_ns_ : same_ns_).push_back(now_ns - probe.sent_ns);
  return Receipt::fresh;
}

Summary Ledger::summary() const {
  Summary s;
  s.sent = sent_;
  s.received = received_;
  s.lost = sent_ - received_;
  s.duplicated = duplicated_;
  s.invented = invented_;
  s.rejected = rejected_;
  std::vector<std::int64_t> all = cross_ns_;
  all.insert(all.end(), same_ns_.begin(), same_ns_.end());
  all.insert(all.end(), group_ns_.begin(), group_ns_.end());
  s.all = latency_stats(std::move(all));
  s.cross_node = latency_stats(cross_ns_);
  s.same_node = latency_stats(same_ns_);
  s.group = latency_stats(group_ns_);
  return s;
}

}  // namespace twofold::messenger::load
