#pragma once
// Remembers the message ids each peer has used, so that a stanza replayed by the server (or
// by anyone who can inject into the stream) is refused before decryption. The window is
// bounded (kReplayWindow newest ids) and persisted, so a reboot does not reopen it.
#include <deque>
#include <filesystem>
#include <set>
#include <string>
#include <utility>

namespace twofold::messenger {

inline constexpr std::size_t kReplayWindow = 4096;

class ReplayGuard {
 public:
  explicit ReplayGuard(std::filesystem::path file);
  bool seen(const std::string& peer_bare, const std::string& id) const;
  // Called once a message decrypted: a forged stanza that fails cannot burn a future id.
  void remember(const std::string& peer_bare, const std::string& id);

 private:
  void insert(std::pair<std::string, std::string> key);
  std::filesystem::path file_;
  std::set<std::pair<std::string, std::string>> seen_;
  std::deque<std::pair<std::string, std::string>> order_;
};

}  // namespace twofold::messenger
