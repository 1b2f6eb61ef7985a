// The provisioning file: a good one loads; each broken rule refuses the whole file.
#include <gtest/gtest.h>

#include "test_support.h"

namespace twofold::messenger::test {
namespace {

class ProvisioningTest : public ::testing::Test {
 protected:
  ProvisioningTest() : org_(dir_.path()) {
    org_.add_account("alice", 1001);
    org_.add_account("bob", 2001);
    org_.add_group("unit-7", {"alice", "bob"});
    good_ = org_.provisioning_toml("alice", 5222);
  }
  std::string refusal(const std::string& text) {
    auto v = parse_provisioning(text, dir_.path());
    const auto* e = std::get_if<ProvisioningError>(&v);
    return e ? e->reason : "(accepted)";
  }
  std::string with(const std::string& from, const std::string& to) {
    auto s = good_;
    const auto at = s.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    if (at != std::string::npos) s.replace(at, from.size(), to);
    return s;
  }
  TempDir dir_;
  Organisation org_;
  std::string good_;
};

TEST_F(ProvisioningTest, good_file_loads_with_contacts_and_groups) {
  auto v = parse_provisioning(good_, dir_.path());
  ASSERT_TRUE(std::holds_alternative<Provisioning>(v)) << std::get<ProvisioningError>(v).reason;
  const auto& p = std::get<Provisioning>(v);
  EXPECT_EQ(p.account.bare(), "alice@messages.test");
  EXPECT_EQ(p.device_id, 1001u);
  ASSERT_EQ(p.contacts.size(), 1u);
  EXPECT_NE(p.device(*Jid::parse("bob@messages.test"), 2001), nullptr);
  EXPECT_EQ(p.device(*Jid::parse("bob@messages.test"), 2002), nullptr);
  ASSERT_NE(p.group("unit-7"), nullptr);
  EXPECT_EQ(p.group("unit-7")->members.size(), 1u);  // alice herself is implicit
}

TEST_F(ProvisioningTest, device_id_zero_is_refused) {
  EXPECT_NE(refusal(with("device_id = 1001", "device_id = 0")).find("device_id"), std::string::npos);
}

TEST_F(ProvisioningTest, account_with_a_resource_is_refused) {
  EXPECT_NE(refusal(with("jid = \"alice@messages.test\"", "jid = \"alice@messages.test/phone\"")).find("bare JID"),
            std::string::npos);
}

TEST_F(ProvisioningTest, server_domain_other_than_the_account_domain_is_refused) {
  EXPECT_NE(refusal(with("domain = \"messages.test\"", "domain = \"evil.test\"")).find("domain"), std::string::npos);
}

TEST_F(ProvisioningTest, identity_key_of_the_wrong_length_is_refused) {
  const auto key = base64_encode(org_.account("bob").identity.public_key);
  EXPECT_NE(refusal(with(key, "AAAA")).find("identity"), std::string::npos);
}

TEST_F(ProvisioningTest, group_member_who_is_not_a_contact_is_refused) {
  EXPECT_NE(refusal(with("\"bob@messages.test\", ]", "\"zed@messages.test\", ]")).find("not a contact"), std::string::npos);
}

TEST_F(ProvisioningTest, not_toml_is_refused) { EXPECT_NE(refusal("[account\njid=").find("TOML"), std::string::npos); }

}  // namespace
}  // namespace twofold::messenger::test
