// The parser of everything from the network, fed hostile stanzas: each is rejected with a
// reason (or ignored), never acted on, and the parser never throws.
#include <gtest/gtest.h>

#include "test_support.h"
#include "twofold/messenger/incoming.h"
#include "twofold/messenger/replay_guard.h"

namespace twofold::messenger::test {
namespace {

class IncomingTest : public ::testing::Test {
 protected:
  IncomingTest() : org_(dir_.path()), ctx_(xmpp_ctx_new(nullptr, nullptr)) {
    org_.add_account("alice", 1001);
    org_.add_account("bob", 2001);
    org_.add_account("carol", 3001);
    org_.add_group("unit-7", {"alice", "bob"});
    alice_ = org_.provisioning("alice", 5222);
  }
  ~IncomingTest() override { xmpp_ctx_free(ctx_); }

  Incoming parse(const std::string& xml) {
    StanzaPtr s{xmpp_stanza_new_from_string(ctx_, xml.c_str())};
    return parse_incoming(s.get(), alice_);
  }
  std::string reason(const Incoming& v) {
    const auto* r = std::get_if<Rejected>(&v);
    return r ? r->reason : "(not rejected: " + describe(v) + ")";
  }

  static std::string omemo(const std::string& header_inner, const std::string& payload = "AAAA") {
    return "<encrypted xmlns='eu.siacs.conversations.axolotl'><header sid='2001'>" + header_inner +
           "</header><payload>" + payload + "</payload></encrypted>";
  }
  static std::string message(const std::string& inner, const std::string& from = "bob@messages.test/phone",
                             const std::string& id = "m1") {
    return "<message from='" + from + "' to='alice@messages.test' type='chat' id='" + id + "'>" + inner + "</message>";
  }
  static constexpr const char* kGoodHeader = "<key rid='1001' prekey='true'>AAECAw==</key><iv>AAAAAAAAAAAAAAAA</iv>";

  TempDir dir_;
  Organisation org_;
  xmpp_ctx_t* ctx_;
  Provisioning alice_;
};

TEST_F(IncomingTest, well_formed_omemo_message_from_a_provisioned_device_is_accepted) {
  const auto v = parse(message(omemo(kGoodHeader) + "<request xmlns='urn:xmpp:receipts'/>"));
  const auto* chat = std::get_if<EncryptedChat>(&v);
  ASSERT_NE(chat, nullptr) << describe(v);
  EXPECT_EQ(chat->sid, 2001u);
  EXPECT_TRUE(chat->key.prekey);
  EXPECT_EQ(chat->key.data, (Bytes{0, 1, 2, 3}));
  EXPECT_EQ(chat->iv.size(), 12u);
  EXPECT_TRUE(chat->wants_receipt);
}

TEST_F(IncomingTest, forged_from_of_an_unprovisioned_account_is_rejected) {
  EXPECT_NE(reason(parse(message(omemo(kGoodHeader), "mallory@messages.test/x"))).find("unprovisioned"), std::string::npos);
}

TEST_F(IncomingTest, from_that_is_not_a_jid_is_rejected) {
  EXPECT_NE(reason(parse(message(omemo(kGoodHeader), "bob@@messages.test"))).find("not a JID"), std::string::npos);
}

TEST_F(IncomingTest, device_not_listed_for_the_sender_is_rejected) {
  const auto xml = message("<encrypted xmlns='eu.siacs.conversations.axolotl'><header sid='3001'>" +
                           std::string(kGoodHeader) + "</header></encrypted>");
  EXPECT_NE(reason(parse(xml)).find("not provisioned"), std::string::npos);
}

TEST_F(IncomingTest, oversized_payload_is_rejected) {
  const std::string huge((kMaxPayload / 3 + 10) * 4, 'A');
  EXPECT_NE(reason(parse(message(omemo(kGoodHeader, huge)))).find("payload"), std::string::npos);
}

TEST_F(IncomingTest, bad_base64_key_is_rejected) {
  EXPECT_NE(reason(parse(message(omemo("<key rid='1001'>A*B=</key><iv>AAAAAAAAAAAAAAAA</iv>")))).find("base64"),
            std::string::npos);
}

TEST_F(IncomingTest, iv_of_the_wrong_size_is_rejected) {
  EXPECT_NE(reason(parse(message(omemo("<key rid='1001'>AAECAw==</key><iv>AAAA</iv>")))).find("iv"), std::string::npos);
}

TEST_F(IncomingTest, message_without_a_key_for_this_device_is_rejected) {
  EXPECT_NE(reason(parse(message(omemo("<key rid='4242'>AAECAw==</key><iv>AAAAAAAAAAAAAAAA</iv>")))).find("no key"),
            std::string::npos);
}

TEST_F(IncomingTest, two_keys_for_this_device_are_rejected) {
  EXPECT_NE(reason(parse(message(omemo(std::string(kGoodHeader) + "<key rid='1001'>AAECAw==</key>")))).find("two keys"),
            std::string::npos);
}

TEST_F(IncomingTest, sid_with_junk_is_rejected) {
  const auto xml = message("<encrypted xmlns='eu.siacs.conversations.axolotl'><header sid='2001x'>" +
                           std::string(kGoodHeader) + "</header></encrypted>");
  EXPECT_NE(reason(parse(xml)).find("sid"), std::string::npos);
}

TEST_F(IncomingTest, missing_message_id_is_rejected) {
  const auto xml = "<message from='bob@messages.test/p' type='chat'>" + omemo(kGoodHeader) + "</message>";
  EXPECT_NE(reason(parse(xml)).find("id"), std::string::npos);
}

TEST_F(IncomingTest, plaintext_body_is_refused) {
  EXPECT_NE(reason(parse(message("<body>hi</body>"))).find("plaintext"), std::string::npos);
}

TEST_F(IncomingTest, group_the_sender_is_not_a_member_of_is_rejected) {
  const auto xml = message(omemo(kGoodHeader) + "<group xmlns='urn:twofold:messenger:group' id='unit-7'/>",
                           "carol@messages.test/p");
  // carol's device 3001 is provisioned but the header says 2001: use a carol header.
  const auto carol = "<message from='carol@messages.test/p' type='chat' id='c1'>"
                     "<encrypted xmlns='eu.siacs.conversations.axolotl'><header sid='3001'>" +
                     std::string(kGoodHeader) + "</header></encrypted><group xmlns='urn:twofold:messenger:group' id='unit-7'/></message>";
  EXPECT_NE(reason(parse(carol)).find("not a member"), std::string::npos);
  (void)xml;
}

TEST_F(IncomingTest, unknown_group_is_rejected) {
  EXPECT_NE(reason(parse(message(omemo(kGoodHeader) + "<group xmlns='urn:twofold:messenger:group' id='nope'/>")))
                .find("not provisioned"),
            std::string::npos);
}

TEST_F(IncomingTest, receipt_and_displayed_marker_are_parsed) {
  const auto r = parse(message("<received xmlns='urn:xmpp:receipts' id='abc'/>"));
  ASSERT_TRUE(std::holds_alternative<DeliveryReceipt>(r)) << describe(r);
  EXPECT_EQ(std::get<DeliveryReceipt>(r).id, "abc");
  const auto d = parse(message("<displayed xmlns='urn:xmpp:chat-markers:0' id='abc'/>"));
  ASSERT_TRUE(std::holds_alternative<DisplayedMarker>(d)) << describe(d);
}

TEST_F(IncomingTest, receipt_id_with_spaces_is_rejected) {
  EXPECT_NE(reason(parse(message("<received xmlns='urn:xmpp:receipts' id='a b'/>"))).find("id"), std::string::npos);
}

TEST_F(IncomingTest, groupchat_is_rejected) {
  const auto xml = "<message from='bob@messages.test/p' type='groupchat' id='g'>" + omemo(kGoodHeader) + "</message>";
  EXPECT_NE(reason(parse(xml)).find("groupchat"), std::string::npos);
}

TEST_F(IncomingTest, device_list_event_is_parsed_and_bounded) {
  const auto ok = parse(message(
      "<event xmlns='http://jabber.org/protocol/pubsub#event'><items node='eu.siacs.conversations.axolotl.devicelist'>"
      "<item id='current'><list xmlns='eu.siacs.conversations.axolotl'><device id='2001'/><device id='7'/></list></item></items></event>",
      "bob@messages.test"));
  ASSERT_TRUE(std::holds_alternative<DeviceListEvent>(ok)) << describe(ok);
  EXPECT_EQ(std::get<DeviceListEvent>(ok).devices.size(), 2u);
  std::string many;
  for (int i = 1; i <= 70; ++i) many += "<device id='" + std::to_string(i) + "'/>";
  const auto too_many = parse(message(
      "<event xmlns='http://jabber.org/protocol/pubsub#event'><items node='eu.siacs.conversations.axolotl.devicelist'>"
      "<item><list xmlns='eu.siacs.conversations.axolotl'>" + many + "</list></item></items></event>",
      "bob@messages.test"));
  EXPECT_NE(reason(too_many).find("too many"), std::string::npos);
}

TEST_F(IncomingTest, bundle_with_a_short_identity_key_is_rejected) {
  StanzaPtr s{xmpp_stanza_new_from_string(ctx_,
      "<iq type='result' from='bob@messages.test' id='x'><pubsub xmlns='http://jabber.org/protocol/pubsub'>"
      "<items node='eu.siacs.conversations.axolotl.bundles:2001'><item><bundle xmlns='eu.siacs.conversations.axolotl'>"
      "<signedPreKeyPublic signedPreKeyId='1'>AAAA</signedPreKeyPublic><signedPreKeySignature>AAAA</signedPreKeySignature>"
      "<identityKey>AAAA</identityKey><prekeys><preKeyPublic preKeyId='1'>AAAA</preKeyPublic></prekeys>"
      "</bundle></item></items></pubsub></iq>")};
  const auto v = parse_bundle_result(s.get(), *Jid::parse("bob@messages.test"), 2001);
  ASSERT_TRUE(std::holds_alternative<Rejected>(v));
  EXPECT_NE(std::get<Rejected>(v).reason.find("wrong size"), std::string::npos);
}

TEST_F(IncomingTest, bundle_from_someone_else_is_rejected) {
  StanzaPtr s{xmpp_stanza_new_from_string(ctx_, "<iq type='result' from='carol@messages.test' id='x'/>")};
  const auto v = parse_bundle_result(s.get(), *Jid::parse("bob@messages.test"), 2001);
  ASSERT_TRUE(std::holds_alternative<Rejected>(v));
  EXPECT_NE(std::get<Rejected>(v).reason.find("from"), std::string::npos);
}

TEST(ReplayGuard, a_remembered_id_is_seen_also_after_a_restart) {
  TempDir dir;
  {
    ReplayGuard guard(dir.path() / "seen");
    EXPECT_FALSE(guard.seen("bob@x", "m1"));
    guard.remember("bob@x", "m1");
    EXPECT_TRUE(guard.seen("bob@x", "m1"));
    EXPECT_FALSE(guard.seen("carol@x", "m1"));
  }
  ReplayGuard again(dir.path() / "seen");
  EXPECT_TRUE(again.seen("bob@x", "m1"));
}

TEST(Base64, decode_refuses_padding_in_the_middle_and_oversize) {
  EXPECT_FALSE(base64_decode("AA==AAAA", 16));
  EXPECT_FALSE(base64_decode("AAAAAAAA", 5));
  EXPECT_EQ(base64_decode("AAECAw==", 16), (Bytes{0, 1, 2, 3}));
  EXPECT_EQ(base64_encode(Bytes{0, 1, 2, 3}), "AAECAw==");
}

}  // namespace
}  // namespace twofold::messenger::test
