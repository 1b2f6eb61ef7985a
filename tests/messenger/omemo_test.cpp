// Two OmemoDevices talking without a server: session from a bundle, messages both ways, and
// the library's refusals (tampered payload, replayed key, bundle with an unlisted identity).
#include <gtest/gtest.h>

#include "test_support.h"

namespace twofold::messenger::test {
namespace {

class OmemoTest : public ::testing::Test {
 protected:
  OmemoTest() : org_(dir_.path()) {
    org_.add_account("alice", 1001);
    org_.add_account("bob", 2001);
    alice_p_ = org_.provisioning("alice", 5222);
    bob_p_ = org_.provisioning("bob", 5222);
    alice_ = std::make_unique<OmemoDevice>(alice_p_, dir_.path() / "alice");
    bob_ = std::make_unique<OmemoDevice>(bob_p_, dir_.path() / "bob");
  }
  static Bundle as_received(const OwnBundle& b, const std::string& owner) {
    return Bundle{*Jid::parse(owner), b.device, b.signed_pre_key_id, b.signed_pre_key, b.signature, b.identity, b.pre_keys};
  }
  static EncryptedChat as_chat(const EncryptedEnvelope& env, const std::string& from, std::uint32_t rid) {
    EncryptedChat c;
    c.from = *Jid::parse(from + "/phone");
    c.id = "x";
    c.sid = env.sid;
    c.iv = env.iv;
    for (const auto& k : env.keys) {
      if (k.rid == rid) c.key = k;
    }
    c.payload = env.payload;
    return c;
  }
  std::string text_of(const std::variant<Decrypted, Rejected>& v) {
    if (const auto* r = std::get_if<Rejected>(&v)) return "rejected: " + r->reason;
    return std::get<Decrypted>(v).text.value_or("(key transport)");
  }

  TempDir dir_;
  Organisation org_;
  Provisioning alice_p_, bob_p_;
  std::unique_ptr<OmemoDevice> alice_, bob_;
};

TEST_F(OmemoTest, session_from_bundle_carries_messages_both_ways) {
  ASSERT_EQ(alice_->build_session(as_received(bob_->bundle(), "bob@messages.test")), std::nullopt);
  const auto bob_jid = *Jid::parse("bob@messages.test");
  const auto alice_jid = *Jid::parse("alice@messages.test");
  auto env = alice_->encrypt({bob_jid}, "first");
  ASSERT_EQ(env.keys.size(), 1u);
  EXPECT_TRUE(env.keys[0].prekey);
  EXPECT_EQ(text_of(bob_->decrypt(as_chat(env, "alice@messages.test", 2001))), "first");
  EXPECT_TRUE(bob_->take_bundle_changed());  // a pre key was used and replaced

  auto reply = bob_->encrypt({alice_jid}, "second");
  ASSERT_EQ(reply.keys.size(), 1u);
  EXPECT_FALSE(reply.keys[0].prekey);
  EXPECT_EQ(text_of(alice_->decrypt(as_chat(reply, "bob@messages.test", 1001))), "second");
}

TEST_F(OmemoTest, tampered_payload_is_rejected) {
  ASSERT_EQ(alice_->build_session(as_received(bob_->bundle(), "bob@messages.test")), std::nullopt);
  auto env = alice_->encrypt({*Jid::parse("bob@messages.test")}, "do not touch");
  env.payload[0] ^= 1;
  EXPECT_NE(text_of(bob_->decrypt(as_chat(env, "alice@messages.test", 2001))).find("tag"), std::string::npos);
}

TEST_F(OmemoTest, replayed_message_is_rejected_by_the_ratchet) {
  ASSERT_EQ(alice_->build_session(as_received(bob_->bundle(), "bob@messages.test")), std::nullopt);
  auto env = alice_->encrypt({*Jid::parse("bob@messages.test")}, "once");
  const auto chat = as_chat(env, "alice@messages.test", 2001);
  ASSERT_EQ(text_of(bob_->decrypt(chat)), "once");
  EXPECT_NE(text_of(bob_->decrypt(chat)).find("rejected"), std::string::npos);
}

TEST_F(OmemoTest, bundle_with_an_identity_that_is_not_provisioned_is_refused) {
  auto bundle = as_received(bob_->bundle(), "bob@messages.test");
  bundle.identity = generate_identity_key_pair().public_key;
  const auto refused = alice_->build_session(bundle);
  ASSERT_TRUE(refused);
  EXPECT_NE(refused->find("not the provisioned"), std::string::npos);
  EXPECT_FALSE(alice_->has_session(*Jid::parse("bob@messages.test"), 2001));
}

TEST_F(OmemoTest, bundle_with_a_forged_signature_is_refused) {
  auto bundle = as_received(bob_->bundle(), "bob@messages.test");
  bundle.signature[5] ^= 0x40;
  EXPECT_TRUE(alice_->build_session(bundle));
}

TEST_F(OmemoTest, keys_survive_reopening_the_state_directory) {
  ASSERT_EQ(alice_->build_session(as_received(bob_->bundle(), "bob@messages.test")), std::nullopt);
  const auto before = bob_->bundle();
  bob_.reset();
  bob_ = std::make_unique<OmemoDevice>(bob_p_, dir_.path() / "bob");
  EXPECT_EQ(bob_->bundle().signed_pre_key, before.signed_pre_key);
  auto env = alice_->encrypt({*Jid::parse("bob@messages.test")}, "still there");
  EXPECT_EQ(text_of(bob_->decrypt(as_chat(env, "alice@messages.test", 2001))), "still there");
}

TEST_F(OmemoTest, provisioning_with_mismatched_key_halves_is_refused) {
  Provisioning broken = alice_p_;
  broken.identity_public = bob_p_.identity_public;
  EXPECT_THROW(OmemoDevice(broken, dir_.path() / "broken"), std::runtime_error);
}

}  // namespace
}  // namespace twofold::messenger::test
