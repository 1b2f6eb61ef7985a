#include "twofold/messenger/history.h"

#include <fstream>
#include <nlohmann/json.hpp>

namespace twofold::messenger {

History::History(std::filesystem::path file) : file_(std::move(file)) {
  std::ifstream in(file_);
  std::string line;
  while (std::getline(in, line)) {
    // Our own file on the sealed volume; a torn last line (power cut) is skipped.
    const auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object()) continue;
    if (j.contains("mark")) {
      apply_mark(j.value("peer", ""), j.value("id", ""),
                 j.value("mark", "") == "displayed" ? Delivery::displayed : Delivery::delivered);
      continue;
    }
    HistoryEntry e;
    e.conversation = j.value("conversation", "");
    e.sender = j.value("sender", "");
    e.id = j.value("id", "");
    e.text = j.value("text", "");
    e.direction = j.value("direction", "in") == "out" ? Direction::outgoing : Direction::incoming;
    e.unix_time = j.value("time", std::int64_t{0});
    entries_.push_back(std::move(e));
  }
}

void History::append_line(const std::string& line) {
  std::ofstream out(file_, std::ios::app);
  out << line << '\n';
  out.flush();
}

void History::add(const HistoryEntry& e) {
  entries_.push_back(e);
  nlohmann::json j{{"conversation", e.conversation}, {"sender", e.sender}, {"id", e.id},
                   {"text", e.text}, {"direction", e.direction == Direction::outgoing ? "out" : "in"},
                   {"time", e.unix_time}};
  append_line(j.dump());
}

bool History::apply_mark(const std::string& peer, const std::string& id, Delivery state) {
  for (auto it = entries_.rbegin(); it != entries_.rend(); ++it) {
    if (it->direction != Direction::outgoing || it->id != id) continue;
    // A group message has one id for all members: any member's receipt marks it.
    if (it->conversation != peer && it->conversation.rfind("group:", 0) != 0) continue;
    if (state > it->state) it->state = state;
    return true;
  }
  return false;
}

bool History::mark(const std::string& peer, const std::string& id, Delivery state) {
  if (!apply_mark(peer, id, state)) return false;
  append_line(nlohmann::json{{"mark", state == Delivery::displayed ? "displayed" : "delivered"},
                             {"peer", peer}, {"id", id}}.dump());
  return true;
}

std::vector<std::string> History::conversations() const {
  std::vector<std::string> out;
  for (const auto& e : entries_) {
    bool known = false;
    for (const auto& c : out) known = known || c == e.conversation;
    if (!known) out.push_back(e.conversation);
  }
  return out;
}

}  // namespace twofold::messenger
