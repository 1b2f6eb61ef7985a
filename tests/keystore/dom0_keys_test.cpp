// dom0's audit signing key and number-hash key, derived from its TPM-sealed secret: the same
// keys boot after boot, nothing of them on the persistent disk, none for a changed dom0.
#include "swtpm_fixture.h"
#include "twofold/audit/keys.h"
#include "twofold/keystore/dom0_keys.h"

#include <sys/stat.h>

#include <fstream>
#include <sstream>

namespace twofold::keystore {
namespace {

using testing::digest_of;
using testing::Swtpm;

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class Dom0KeysTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ::setenv("TSS2_LOG", "all+none", 1);
    boot('x');
  }
  // A power cycle: the TPM keeps its keys, the PCRs start from zero and are measured again.
  void boot(char dom0_measurement) {
    tpm_.reset();
    if (booted_) swtpm_.restart();
    booted_ = true;
    tpm_ = std::make_unique<Tpm>(swtpm_.tcti());
    tpm_->extend(8, digest_of(dom0_measurement));
  }
  Dom0Secret dom0() {
    return Dom0Secret::open_or_create(*tpm_, swtpm_.dir() + "/dom0.sealed", *PcrSelection::from({8}));
  }

  Swtpm swtpm_;
  std::unique_ptr<Tpm> tpm_;
  bool booted_ = false;
};

TEST_F(Dom0KeysTest, AuditKeyIsEd25519AndTheSameAfterAReboot) {
  const std::string priv = swtpm_.dir() + "/audit.pem", pub = swtpm_.dir() + "/audit.pem.pub";
  write_dom0_key(derive_dom0_key(dom0(), Dom0KeyPurpose::audit_signing), priv, pub);
  struct stat st{};
  ASSERT_EQ(::stat(priv.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  const auto signer = audit::SigningKey::load_pem(priv);  // refuses anything but Ed25519 0600
  const auto verifier = audit::VerifyKey::load_pem(pub);
  const std::string message = "sequence 1";
  const std::span<const std::uint8_t> bytes(reinterpret_cast<const std::uint8_t*>(message.data()), message.size());
  EXPECT_TRUE(verifier.verify(bytes, signer.sign(bytes)));
  const std::string first_private = read_file(priv), first_public = read_file(pub);

  boot('x');
  write_dom0_key(derive_dom0_key(dom0(), Dom0KeyPurpose::audit_signing), priv, pub);
  EXPECT_EQ(read_file(priv), first_private);
  EXPECT_EQ(read_file(pub), first_public);  // a verifier's pinned key keeps verifying
}

TEST_F(Dom0KeysTest, NumberKeyIs32BytesStableAndUnrelatedToTheAuditKey) {
  const std::string number = swtpm_.dir() + "/number-key", audit_priv = swtpm_.dir() + "/a.pem";
  write_dom0_key(derive_dom0_key(dom0(), Dom0KeyPurpose::modem_number), number, "");
  write_dom0_key(derive_dom0_key(dom0(), Dom0KeyPurpose::audit_signing), audit_priv, "");
  const std::string first = read_file(number);
  EXPECT_EQ(first.size(), 32u);
  EXPECT_EQ(read_file(audit_priv).find(first), std::string::npos);
  boot('x');
  write_dom0_key(derive_dom0_key(dom0(), Dom0KeyPurpose::modem_number), number, "");
  EXPECT_EQ(read_file(number), first);
  // The number key has no public half to publish.
  EXPECT_THROW(write_dom0_key(derive_dom0_key(dom0(), Dom0KeyPurpose::modem_number), number, number + ".pub"),
               std::invalid_argument);
}

TEST_F(Dom0KeysTest, ChangedDom0GetsNoKey) {
  (void)dom0();
  boot('Y');  // another hypervisor or dom0 kernel was measured
  EXPECT_THROW(dom0(), std::runtime_error);
}

TEST(Dom0KeyPurposeTest, OnlyTheTwoNamedPurposes) {
  EXPECT_EQ(parse_dom0_key_purpose("audit-signing"), Dom0KeyPurpose::audit_signing);
  EXPECT_EQ(parse_dom0_key_purpose("modem-number"), Dom0KeyPurpose::modem_number);
  EXPECT_FALSE(parse_dom0_key_purpose("").has_value());
  EXPECT_FALSE(parse_dom0_key_purpose("audit-signing ").has_value());
  EXPECT_FALSE(parse_dom0_key_purpose("secure-volume").has_value());
}

}  // namespace
}  // namespace twofold::keystore
