// The screen's model: the list shows every provisioned conversation, unread counts only for
// conversations that are not open, the compose line takes printable ASCII only.
#include <gtest/gtest.h>

#include "test_support.h"
#include "twofold/messenger/conversations.h"

namespace twofold::messenger::test {
namespace {

class ConversationsTest : public ::testing::Test {
 protected:
  ConversationsTest() : org_(dir_.path()), history_(dir_.path() / "history.jsonl") {
    org_.add_account("alice", 1001);
    org_.add_account("bob", 2001);
    org_.add_account("carol", 3001);
    org_.add_group("unit-7", {"bob", "carol"});
    p_ = org_.provisioning("alice", 5222);
  }
  static HistoryEntry from(const std::string& conversation, const std::string& text) {
    return HistoryEntry{conversation, "bob@messages.test", text, text, Direction::incoming, Delivery::sent, 0};
  }
  TempDir dir_;
  Organisation org_;
  History history_;
  Provisioning p_;
};

TEST_F(ConversationsTest, lists_contacts_then_groups_and_opens_the_first) {
  Conversations c(p_);
  const auto rows = c.rows();
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0].id, "bob@messages.test");
  EXPECT_EQ(rows[2].id, "group:unit-7");
  EXPECT_TRUE(rows[0].selected);
  EXPECT_TRUE(c.selected_is_group() == false);
}

TEST_F(ConversationsTest, unread_counts_only_for_closed_conversations_and_clear_on_open) {
  Conversations c(p_);
  c.arrived(from("bob@messages.test", "a"));
  c.arrived(from("carol@messages.test", "b"));
  c.arrived(from("carol@messages.test", "c"));
  EXPECT_EQ(c.rows()[0].unread, 0u);
  EXPECT_EQ(c.rows()[1].unread, 2u);
  c.select_next();
  c.opened();
  EXPECT_EQ(c.rows()[1].unread, 0u);
}

TEST_F(ConversationsTest, messages_are_the_open_conversations_newest_last) {
  Conversations c(p_);
  history_.add(from("bob@messages.test", "one"));
  history_.add(from("carol@messages.test", "other"));
  history_.add(from("bob@messages.test", "two"));
  const auto shown = c.messages(history_, 10);
  ASSERT_EQ(shown.size(), 2u);
  EXPECT_EQ(shown[0]->text, "one");
  EXPECT_EQ(shown[1]->text, "two");
  EXPECT_EQ(c.messages(history_, 1).front()->text, "two");
}

TEST(ComposeLine, takes_printable_ascii_and_backspace_only) {
  ComposeLine line;
  EXPECT_TRUE(line.key('h'));
  EXPECT_TRUE(line.key('i'));
  EXPECT_FALSE(line.key(0x1b));  // escape: not text
  EXPECT_FALSE(line.key(0x4a1)); // a curses key code
  EXPECT_TRUE(line.key(127));
  EXPECT_EQ(line.take(), "h");
  EXPECT_EQ(line.text(), "");
}

}  // namespace
}  // namespace twofold::messenger::test
