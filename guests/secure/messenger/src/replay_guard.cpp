#include "twofold/messenger/replay_guard.h"

#include <fstream>

namespace twofold::messenger {

ReplayGuard::ReplayGuard(std::filesystem::path file) : file_(std::move(file)) {
  std::ifstream in(file_);
  std::string peer;
  std::string id;
  // One "peer id" pair a line; both were validated (no spaces) when first stored.
  while (in >> peer >> id) insert({peer, id});
}

void ReplayGuard::insert(std::pair<std::string, std::string> key) {
  if (!seen_.insert(key).second) return;
  order_.push_back(std::move(key));
  if (order_.size() > kReplayWindow) {
    seen_.erase(order_.front());
    order_.pop_front();
  }
}

bool ReplayGuard::seen(const std::string& peer_bare, const std::string& id) const {
  return seen_.contains(std::make_pair(peer_bare, id));
}

void ReplayGuard::remember(const std::string& peer_bare, const std::string& id) {
  if (seen(peer_bare, id)) return;
  insert({peer_bare, id});
  if (order_.size() == kReplayWindow) {
    // Rewrite occasionally so the file stays bounded like the window.
    std::ofstream out(file_, std::ios::trunc);
    for (const auto& [p, i] : order_) out << p << ' ' << i << '\n';
  } else {
    std::ofstream out(file_, std::ios::app);
    out << peer_bare << ' ' << id << '\n';
  }
}

}  // namespace twofold::messenger
