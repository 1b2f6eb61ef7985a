#pragma once
// dom0's long-lived keys (the audit log's signing key, the modem backend's key for hashing
// phone numbers) derived at every boot from dom0's TPM-sealed secret, so no private key is
// ever stored in clear: the files exist only in dom0's tmpfs (/run) while dom0 runs. A dom0
// whose measurements changed cannot unseal the secret, so it cannot sign as the genuine one
// or hash numbers into the genuine one's values.
#include <optional>
#include <string>
#include <string_view>

#include "twofold/keystore/keystore.h"

namespace twofold::keystore {

enum class Dom0KeyPurpose {
  audit_signing,  // Ed25519 (PKCS#8 PEM private key, SubjectPublicKeyInfo PEM public key)
  modem_number,   // 32 raw bytes (the modem backend's --number-key)
};

// "audit-signing" or "modem-number"; nullopt for anything else.
std::optional<Dom0KeyPurpose> parse_dom0_key_purpose(std::string_view text);

struct Dom0Key {
  Secret private_bytes;  // what goes into the private file (PEM text or raw key)
  std::string public_pem;  // audit_signing only
};

// Deterministic: the same dom0 secret gives the same key, boot after boot; each purpose has
// its own HMAC label, so one key says nothing about the other.
Dom0Key derive_dom0_key(const Dom0Secret& dom0, Dom0KeyPurpose purpose);

// Writes the private file with mode 0600 (temporary file + rename, so a reader never sees a
// half-written key) and, when asked and the purpose has one, the public PEM (0644).
void write_dom0_key(const Dom0Key& key, const std::string& private_path, const std::string& public_path);

}  // namespace twofold::keystore
