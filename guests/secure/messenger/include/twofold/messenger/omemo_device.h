#pragma once
// This device's OMEMO side: libomemo-c's context with the OpenSSL provider and the persisted
// KeyStore; pre key generation, the bundle to publish, session building from a peer's bundle,
// and encrypting/decrypting the per-device key material (OMEMO 0.3, Signal session version 3).
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <signal_protocol.h>

#include "twofold/messenger/bytes.h"
#include "twofold/messenger/incoming.h"
#include "twofold/messenger/key_store.h"
#include "twofold/messenger/provisioning.h"

namespace twofold::messenger {

inline constexpr std::uint32_t kPreKeyCount = 100;  // what XEP-0384 recommends publishing
inline constexpr std::uint32_t kSignedPreKeyId = 1;
inline constexpr std::uint32_t kSessionVersion = 3;  // OMEMO 0.3 (eu.siacs.conversations.axolotl)

struct OwnBundle {
  std::uint32_t device = 0;
  std::uint32_t signed_pre_key_id = 0;
  Bytes signed_pre_key;
  Bytes signature;
  Bytes identity;
  std::vector<PreKeyPublic> pre_keys;
};

struct EncryptedEnvelope {
  std::uint32_t sid = 0;
  Bytes iv;
  std::vector<OmemoKey> keys;
  Bytes payload;
};

struct Decrypted {
  std::optional<std::string> text;  // absent: a key-transport message
};

// A freshly generated identity key pair, for the organisation's enrolment (`keygen`).
struct IdentityKeyPair {
  Bytes public_key;   // 33 bytes
  Bytes private_key;  // 32 bytes
};
IdentityKeyPair generate_identity_key_pair();

class OmemoDevice {
 public:
  // Throws std::runtime_error when the provisioned identity pair is inconsistent or the
  // state directory cannot be written.
  OmemoDevice(const Provisioning& provisioning, std::filesystem::path dir);
  ~OmemoDevice();
  OmemoDevice(const OmemoDevice&) = delete;
  OmemoDevice& operator=(const OmemoDevice&) = delete;

  OwnBundle bundle() const;
  bool has_session(const Jid& bare, std::uint32_t device) const;
  // Refuses (returns the reason) a bundle for a device or identity key that is not provisioned.
  std::optional<std::string> build_session(const Bundle& bundle);
  // Encrypts `text` for every provisioned device of `recipients` that has a session; the
  // devices without one are listed in `missing` so the caller can fetch their bundles first.
  EncryptedEnvelope encrypt(const std::vector<Jid>& recipients, std::string_view text,
                            std::vector<std::pair<Jid, std::uint32_t>>* missing = nullptr);
  std::variant<Decrypted, Rejected> decrypt(const EncryptedChat& chat);
  // True (once) after a pre key was consumed and replaced: the bundle must be republished.
  bool take_bundle_changed();
  std::size_t untrusted_identity_refusals() const { return keys_.untrusted_identity_refusals(); }

 private:
  struct ContextFree {
    void operator()(signal_context* c) const { signal_context_destroy(c); }
  };
  struct StoreFree {
    void operator()(signal_protocol_store_context* s) const { signal_protocol_store_context_destroy(s); }
  };
  void generate_pre_keys(std::uint32_t first, std::uint32_t count);
  void generate_signed_pre_key();
  void replenish_pre_keys();

  const Provisioning& provisioning_;
  KeyStore keys_;
  signal_crypto_provider provider_;
  std::unique_ptr<signal_context, ContextFree> context_;
  std::unique_ptr<signal_protocol_store_context, StoreFree> store_;
  bool bundle_changed_ = false;
};

}  // namespace twofold::messenger
