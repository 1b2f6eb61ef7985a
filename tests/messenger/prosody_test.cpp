// The messenger against a real prosody on 127.0.0.1 (loopback only), with a test CA made by
// openssl and three provisioned accounts. Each test gets its own server and state.
#include <gtest/gtest.h>

#include <csignal>
#include <memory>
#include <optional>

#include "test_support.h"

namespace twofold::messenger::test {
namespace {

struct Inbox {
  std::vector<HistoryEntry> messages;
  std::vector<std::pair<std::string, Delivery>> deliveries;
  std::vector<std::string> rejected;
  ClientEvents events() {
    ClientEvents e;
    e.message = [this](const HistoryEntry& m) { messages.push_back(m); };
    e.delivery = [this](const std::string&, const std::string& id, Delivery d) { deliveries.emplace_back(id, d); };
    e.rejected = [this](const std::string& r) { rejected.push_back(r); };
    return e;
  }
  bool has_delivery(const std::string& id, Delivery d) const {
    for (const auto& [i, s] : deliveries) {
      if (i == id && s == d) return true;
    }
    return false;
  }
};

class ProsodyTest : public ::testing::Test {
 protected:
  // As the program does (client.h): a server that goes away must not kill the test.
  static void SetUpTestSuite() { std::signal(SIGPIPE, SIG_IGN); }

  ProsodyTest() : org_(dir_.path()) {
    org_.add_account("alice", 1001);
    org_.add_account("bob", 2001);
    org_.add_account("carol", 3001);
    org_.add_group("unit-7", {"alice", "bob", "carol"});
    std::filesystem::create_directories(dir_.path() / "server");
    server_ = std::make_unique<Prosody>(org_, dir_.path() / "server");
  }

  std::unique_ptr<Client> client(const std::string& local, Inbox& inbox, const std::string& state = "") {
    provisionings_.push_back(std::make_unique<Provisioning>(org_.provisioning(local, server_->port())));
    return std::make_unique<Client>(*provisionings_.back(), dir_.path() / (state.empty() ? local : state),
                                    inbox.events());
  }

  // A phone logging in to bob's account with an identity key the organisation never enrolled
  // (and, when given, a device id it never enrolled either).
  std::unique_ptr<Client> rogue_bob(Inbox& inbox, std::optional<std::uint32_t> device_id = std::nullopt) {
    auto provisioning = std::make_unique<Provisioning>(org_.provisioning("bob", server_->port()));
    const auto fresh = generate_identity_key_pair();
    if (device_id) provisioning->device_id = *device_id;
    provisioning->identity_public = fresh.public_key;
    provisioning->identity_private = fresh.private_key;
    provisionings_.push_back(std::move(provisioning));
    return std::make_unique<Client>(*provisionings_.back(), dir_.path() / "rogue", inbox.events());
  }

  static void go_online(const std::vector<Client*>& clients) {
    for (auto* c : clients) c->connect();
    ASSERT_TRUE(pump(clients, [&] {
      for (auto* c : clients) {
        if (!c->online()) return false;
      }
      return true;
    })) << "not every client came online";
  }

  static Jid jid(const std::string& local) { return *Jid::parse(local + "@" + kDomain); }

  TempDir dir_;
  Organisation org_;
  std::unique_ptr<Prosody> server_;
  std::vector<std::unique_ptr<Provisioning>> provisionings_;
};

TEST_F(ProsodyTest, one_to_one_both_ways_with_receipts_and_read_markers) {
  Inbox a_in, b_in;
  auto alice = client("alice", a_in);
  auto bob = client("bob", b_in);
  go_online({alice.get(), bob.get()});

  const auto id = alice->send(jid("bob"), "hello bob");
  ASSERT_TRUE(id);
  ASSERT_TRUE(pump({alice.get(), bob.get()}, [&] { return !b_in.messages.empty(); }));
  EXPECT_EQ(b_in.messages[0].text, "hello bob");
  EXPECT_EQ(b_in.messages[0].sender, "alice@messages.test");
  EXPECT_EQ(b_in.messages[0].id, *id);
  ASSERT_TRUE(pump({alice.get(), bob.get()}, [&] { return a_in.has_delivery(*id, Delivery::delivered); }));

  bob->mark_displayed(jid("alice"), *id);
  ASSERT_TRUE(pump({alice.get(), bob.get()}, [&] { return a_in.has_delivery(*id, Delivery::displayed); }));

  ASSERT_TRUE(bob->send(jid("alice"), "hello alice"));
  ASSERT_TRUE(pump({alice.get(), bob.get()}, [&] { return !a_in.messages.empty(); }));
  EXPECT_EQ(a_in.messages[0].text, "hello alice");
  EXPECT_TRUE(a_in.rejected.empty());
  EXPECT_TRUE(b_in.rejected.empty());
}

TEST_F(ProsodyTest, offline_recipient_gets_the_message_when_it_connects) {
  Inbox a_in, b_in;
  {
    // bob's phone was on once (it published its bundle), then switched off.
    auto bob = client("bob", b_in);
    go_online({bob.get()});
    bob->disconnect();
  }
  auto alice = client("alice", a_in);
  go_online({alice.get()});
  const auto id = alice->send(jid("bob"), "sent while you were off");
  ASSERT_TRUE(id);
  ASSERT_TRUE(pump({alice.get()}, [&] { return alice->counters().sent == 1; }));

  auto bob = client("bob", b_in);
  go_online({bob.get()});
  ASSERT_TRUE(pump({alice.get(), bob.get()}, [&] { return !b_in.messages.empty(); }));
  EXPECT_EQ(b_in.messages[0].text, "sent while you were off");
  ASSERT_TRUE(pump({alice.get(), bob.get()}, [&] { return a_in.has_delivery(*id, Delivery::delivered); }));
}

TEST_F(ProsodyTest, server_store_holds_ciphertext_not_plaintext) {
  Inbox a_in, b_in;
  {
    auto bob = client("bob", b_in);
    go_online({bob.get()});
    bob->disconnect();
  }
  auto alice = client("alice", a_in);
  go_online({alice.get()});
  const std::string marker = "PLAINTEXT-MARKER-7c1e";
  ASSERT_TRUE(alice->send(jid("bob"), marker));
  ASSERT_TRUE(pump({alice.get()}, [&] { return alice->counters().sent == 1; }));
  alice->disconnect();  // the server has handled the stanza once our stream is closed

  // The offline store has the message (so the grep below looks at the right place)...
  EXPECT_TRUE(tree_contains(server_->data_dir(), "eu.siacs.conversations.axolotl"));
  // ...and no trace of its text.
  EXPECT_FALSE(tree_contains(server_->data_dir(), marker));
}

TEST_F(ProsodyTest, group_message_fans_out_to_every_member) {
  Inbox a_in, b_in, c_in;
  auto alice = client("alice", a_in);
  auto bob = client("bob", b_in);
  auto carol = client("carol", c_in);
  go_online({alice.get(), bob.get(), carol.get()});
  ASSERT_TRUE(alice->send_group("unit-7", "unit 7, report"));
  ASSERT_TRUE(pump({alice.get(), bob.get(), carol.get()},
                   [&] { return !b_in.messages.empty() && !c_in.messages.empty(); }));
  EXPECT_EQ(b_in.messages[0].conversation, "group:unit-7");
  EXPECT_EQ(c_in.messages[0].conversation, "group:unit-7");
  EXPECT_EQ(c_in.messages[0].text, "unit 7, report");
}

TEST_F(ProsodyTest, unprovisioned_device_of_a_known_account_is_refused) {
  Inbox a_in, r_in;
  auto alice = client("alice", a_in);
  go_online({alice.get()});
  // A second phone logs in with bob's password but a device the organisation never enrolled:
  // alice's file does not list device 2999.
  auto rogue = rogue_bob(r_in, 2999);
  go_online({rogue.get()});
  ASSERT_TRUE(rogue->send(jid("alice"), "trust me"));
  ASSERT_TRUE(pump({alice.get(), rogue.get()}, [&] { return !a_in.rejected.empty(); }));
  EXPECT_NE(a_in.rejected[0].find("not provisioned"), std::string::npos) << a_in.rejected[0];
  EXPECT_TRUE(a_in.messages.empty());
}

TEST_F(ProsodyTest, provisioned_device_id_with_another_identity_key_is_refused) {
  Inbox a_in, r_in;
  auto alice = client("alice", a_in);
  go_online({alice.get()});
  // Same device id as bob's phone, but not its identity key (a cloned enrolment).
  auto rogue = rogue_bob(r_in);
  go_online({rogue.get()});
  ASSERT_TRUE(rogue->send(jid("alice"), "trust me"));
  ASSERT_TRUE(pump({alice.get(), rogue.get()}, [&] { return !a_in.rejected.empty(); }));
  EXPECT_NE(a_in.rejected[0].find("identity"), std::string::npos) << a_in.rejected[0];
  EXPECT_TRUE(a_in.messages.empty());
}

TEST_F(ProsodyTest, history_and_sessions_survive_a_restart) {
  Inbox a_in, b_in;
  auto alice = client("alice", a_in);
  {
    auto bob = client("bob", b_in);
    go_online({alice.get(), bob.get()});
    ASSERT_TRUE(alice->send(jid("bob"), "before the reboot"));
    ASSERT_TRUE(pump({alice.get(), bob.get()}, [&] { return !b_in.messages.empty(); }));
    bob->disconnect();
  }
  Inbox b2_in;
  auto bob = client("bob", b2_in);
  ASSERT_FALSE(bob->history().entries().empty());
  EXPECT_EQ(bob->history().entries().back().text, "before the reboot");
  go_online({bob.get()});
  // The session is the persisted one: a normal (non-pre-key) message decrypts.
  ASSERT_TRUE(alice->send(jid("bob"), "after the reboot"));
  ASSERT_TRUE(pump({alice.get(), bob.get()}, [&] { return !b2_in.messages.empty(); }));
  EXPECT_EQ(b2_in.messages[0].text, "after the reboot");
}

TEST_F(ProsodyTest, client_connects_again_after_the_server_restarted) {
  Inbox a_in, b_in;
  auto alice = client("alice", a_in);
  auto bob = client("bob", b_in);
  go_online({alice.get(), bob.get()});
  server_->restart();
  ASSERT_TRUE(pump({alice.get(), bob.get()}, [&] {
    return !alice->online() && !alice->connecting() && !bob->online() && !bob->connecting();
  })) << "the clients did not notice the server went away";
  go_online({alice.get(), bob.get()});
  ASSERT_TRUE(alice->send(jid("bob"), "after the server restart"));
  ASSERT_TRUE(pump({alice.get(), bob.get()}, [&] { return !b_in.messages.empty(); }));
  EXPECT_EQ(b_in.messages[0].text, "after the server restart");
}

TEST_F(ProsodyTest, server_certificate_from_another_ca_is_refused) {
  Inbox a_in;
  org_.make_ca(dir_.path() / "other.key", dir_.path() / "other-ca.pem", "Some Other CA");
  Provisioning p = org_.provisioning("alice", server_->port());
  p.ca_file = dir_.path() / "other-ca.pem";
  Client alice(p, dir_.path() / "alice", a_in.events());
  alice.connect();
  EXPECT_TRUE(pump({&alice}, [&] { return alice.connection_failed(); }));
  EXPECT_FALSE(alice.online());
}

}  // namespace
}  // namespace twofold::messenger::test
