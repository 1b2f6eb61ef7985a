#pragma once
// The conversation history on the sealed volume: one JSON object a line (nlohmann::json),
// appended as things happen, replayed into memory at start. Receipts and read markers are
// lines of their own that update an earlier message's state.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace twofold::messenger {

enum class Direction { incoming, outgoing };
enum class Delivery { sent, delivered, displayed };

struct HistoryEntry {
  std::string conversation;  // a peer's bare JID, or "group:<id>"
  std::string sender;        // bare JID
  std::string id;
  std::string text;
  Direction direction = Direction::incoming;
  Delivery state = Delivery::sent;
  std::int64_t unix_time = 0;
};

class History {
 public:
  explicit History(std::filesystem::path file);
  void add(const HistoryEntry& entry);
  // Marks our outgoing message `id` to `peer` as delivered/displayed; false if unknown.
  bool mark(const std::string& peer_bare, const std::string& id, Delivery state);
  const std::vector<HistoryEntry>& entries() const { return entries_; }
  std::vector<std::string> conversations() const;

 private:
  bool apply_mark(const std::string& peer_bare, const std::string& id, Delivery state);
  void append_line(const std::string& line);
  std::filesystem::path file_;
  std::vector<HistoryEntry> entries_;
};

}  // namespace twofold::messenger
