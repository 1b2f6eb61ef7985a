#pragma once
// Ed25519 keys for checkpoint signatures (OpenSSL EVP_PKEY_ED25519, EVP_DigestSign with a
// NULL digest). The writer holds the private key; the verifier pins one public key, so a
// checkpoint re-sealed with any other key is rejected.

#include <array>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>

#include <openssl/evp.h>

namespace twofold::audit {

inline constexpr std::size_t kSignatureBytes = 64;
using Signature = std::array<std::uint8_t, kSignatureBytes>;

class KeyError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct PkeyDeleter {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyDeleter>;

// Key id: first 8 bytes of SHA-256(raw 32-byte public key), hex. Names the key in
// checkpoints so a mismatch is reported as "signed by another key" rather than just
// "bad signature"; the security comes from the pinned key, not from the id.
[[nodiscard]] std::string key_id_of(EVP_PKEY* key);

class SigningKey {
 public:
  // Throws KeyError if the file is missing, not an Ed25519 private key, or readable by
  // group/others (a leaked signing key lets an attacker re-seal an edited log).
  static SigningKey load_pem(const std::filesystem::path& path);
  static SigningKey from_pem(std::string_view pem);
  static SigningKey generate();

  [[nodiscard]] Signature sign(std::span<const std::uint8_t> message) const;
  [[nodiscard]] const std::string& key_id() const { return key_id_; }
  [[nodiscard]] std::string private_pem() const;
  [[nodiscard]] std::string public_pem() const;

 private:
  explicit SigningKey(PkeyPtr key);
  PkeyPtr key_;
  std::string key_id_;
};

class VerifyKey {
 public:
  static VerifyKey load_pem(const std::filesystem::path& path);
  static VerifyKey from_pem(std::string_view pem);

  [[nodiscard]] bool verify(std::span<const std::uint8_t> message, const Signature& signature) const;
  [[nodiscard]] const std::string& key_id() const { return key_id_; }

 private:
  explicit VerifyKey(PkeyPtr key);
  PkeyPtr key_;
  std::string key_id_;
};

struct KeyFiles {
  std::filesystem::path private_key;
  std::filesystem::path public_key;
  std::string key_id;
};
inline constexpr std::string_view kPrivateKeyFile = "audit-signing.key";
inline constexpr std::string_view kPublicKeyFile = "audit-signing.pub";

// Writes DIR/audit-signing.key (0600, never overwritten) and DIR/audit-signing.pub.
KeyFiles generate_key_files(const std::filesystem::path& directory);

}  // namespace twofold::audit
