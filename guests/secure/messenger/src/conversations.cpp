#include "twofold/messenger/conversations.h"

#include <utility>

namespace twofold::messenger {

Conversations::Conversations(const Provisioning& p) {
  for (const auto& c : p.contacts) {
    ids_.push_back(c.jid.bare());
    titles_[c.jid.bare()] = c.name;
  }
  for (const auto& g : p.groups) {
    ids_.push_back("group:" + g.id);
    titles_["group:" + g.id] = "# " + g.name;
  }
  if (ids_.empty()) {
    ids_.push_back("");  // a provisioning with no peers still draws a (empty) screen
    titles_[""] = "(no contacts)";
  }
}

std::vector<ConversationRow> Conversations::rows() const {
  std::vector<ConversationRow> out;
  for (std::size_t i = 0; i < ids_.size(); ++i) {
    const auto it = unread_.find(ids_[i]);
    out.push_back(ConversationRow{ids_[i], titles_.at(ids_[i]), it == unread_.end() ? 0 : it->second, i == selected_});
  }
  return out;
}

void Conversations::select_next() { selected_ = (selected_ + 1) % ids_.size(); }
void Conversations::select_previous() { selected_ = (selected_ + ids_.size() - 1) % ids_.size(); }

void Conversations::arrived(const HistoryEntry& e) {
  if (e.conversation != selected()) ++unread_[e.conversation];
}

std::vector<const HistoryEntry*> Conversations::messages(const History& history, std::size_t max) const {
  std::vector<const HistoryEntry*> out;
  const auto& all = history.entries();
  for (auto it = all.rbegin(); it != all.rend() && out.size() < max; ++it) {
    if (it->conversation == selected()) out.push_back(&*it);
  }
  return {out.rbegin(), out.rend()};
}

bool ComposeLine::key(int ch) {
  if (ch == 127 || ch == 8 || ch == 263 /* KEY_BACKSPACE */) {
    if (text_.empty()) return false;
    text_.pop_back();
    return true;
  }
  if (ch < 0x20 || ch > 0x7e || text_.size() >= kMax) return false;
  text_.push_back(static_cast<char>(ch));
  return true;
}

}  // namespace twofold::messenger
