// Key files: permissions, no overwrite, type checks, sign/verify.

#include <gtest/gtest.h>

#include <sys/stat.h>

#include "audit_test_support.h"

namespace twofold::audit {
namespace {

mode_t mode_of(const std::filesystem::path& path) {
  struct stat info {};
  EXPECT_EQ(::stat(path.c_str(), &info), 0);
  return info.st_mode & 0777;
}

std::span<const std::uint8_t> bytes(std::string_view text) {
  return {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()};
}

TEST(KeysTest, KeygenWritesAPrivateKeyReadableOnlyByItsOwner) {
  testing::TempDir dir;
  const KeyFiles files = generate_key_files(dir.path() / "keys");
  EXPECT_EQ(mode_of(files.private_key), 0600u);
  EXPECT_EQ(files.key_id.size(), 16u);
}

TEST(KeysTest, KeygenRefusesToOverwriteAnExistingKey) {
  testing::TempDir dir;
  (void)generate_key_files(dir.path());
  EXPECT_THROW((void)generate_key_files(dir.path()), KeyError);
}

TEST(KeysTest, GeneratedKeyPairSignsAndVerifies) {
  testing::TempDir dir;
  const KeyFiles files = generate_key_files(dir.path());
  const SigningKey signer = SigningKey::load_pem(files.private_key);
  const VerifyKey verifier = VerifyKey::load_pem(files.public_key);
  EXPECT_EQ(signer.key_id(), verifier.key_id());
  const Signature signature = signer.sign(bytes("checkpoint"));
  EXPECT_TRUE(verifier.verify(bytes("checkpoint"), signature));
  EXPECT_FALSE(verifier.verify(bytes("checkpoinT"), signature));
}

TEST(KeysTest, PrivateKeyReadableByOthersIsRefused) {
  testing::TempDir dir;
  const KeyFiles files = generate_key_files(dir.path());
  std::filesystem::permissions(files.private_key, std::filesystem::perms(0644));
  EXPECT_THROW((void)SigningKey::load_pem(files.private_key), KeyError);
}

TEST(KeysTest, NonEd25519PublicKeyIsRefused) {
  // An EC P-256 public key: right PEM shape, wrong algorithm.
  const std::string pem =
      "-----BEGIN PUBLIC KEY-----\n"
      "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE0xs8zSbrne+/OHdKFwugUvwgAJX8\n"
      "LFo1ZlDoxXcCORWOuZoueCMwCITm817XQmdnicvd1BJz2TofUfntBoO1Bg==\n"
      "-----END PUBLIC KEY-----\n";
  try {
    (void)VerifyKey::from_pem(pem);
    ADD_FAILURE() << "EC key accepted";
  } catch (const KeyError& error) {
    EXPECT_NE(std::string(error.what()).find("not an Ed25519 key"), std::string::npos) << error.what();
  }
}

TEST(KeysTest, GarbagePemIsRefused) {
  EXPECT_THROW((void)VerifyKey::from_pem("not a key"), KeyError);
  EXPECT_THROW((void)SigningKey::from_pem("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"),
               KeyError);
}

TEST(KeysTest, DifferentKeysHaveDifferentIds) {
  EXPECT_NE(SigningKey::generate().key_id(), SigningKey::generate().key_id());
}

}  // namespace
}  // namespace twofold::audit
