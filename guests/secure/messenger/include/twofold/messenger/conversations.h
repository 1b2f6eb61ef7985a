#pragma once
// What the screen shows, without the screen: the conversation list (every provisioned
// contact and group), which one is open, unread counts, and the line being composed.
// The ncurses view (src/ui.cpp) only draws this and feeds it keys.
#include <cstddef>
#include <map>
#include <utility>
#include <string>
#include <vector>

#include "twofold/messenger/history.h"
#include "twofold/messenger/provisioning.h"

namespace twofold::messenger {

struct ConversationRow {
  std::string id;     // a contact's bare JID, or "group:<id>"
  std::string title;  // the provisioned name
  std::size_t unread = 0;
  bool selected = false;
};

class Conversations {
 public:
  explicit Conversations(const Provisioning& provisioning);
  std::vector<ConversationRow> rows() const;
  const std::string& selected() const { return ids_[selected_]; }
  bool selected_is_group() const { return selected().rfind("group:", 0) == 0; }
  void select_next();
  void select_previous();
  // An incoming message: counts as unread unless its conversation is open.
  void arrived(const HistoryEntry& e);
  void opened() { unread_[selected()] = 0; }
  // The open conversation's messages, newest last (at most `max`).
  std::vector<const HistoryEntry*> messages(const History& history, std::size_t max) const;

 private:
  std::vector<std::string> ids_;
  std::map<std::string, std::string> titles_;
  std::map<std::string, std::size_t> unread_;
  std::size_t selected_ = 0;
};

// The compose line: printable ASCII only, bounded, edited with Backspace.
class ComposeLine {
 public:
  static constexpr std::size_t kMax = 512;
  // Returns true when the key changed the line.
  bool key(int ch);
  const std::string& text() const { return text_; }
  std::string take() { return std::exchange(text_, {}); }

 private:
  std::string text_;
};

}  // namespace twofold::messenger
