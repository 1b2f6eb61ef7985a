#pragma once
// The key hierarchy (docs/security.md, "Sealed storage"):
//
//   TPM owner seed ─ SRK (primary) ─┬─ dom0 secret            PolicyPCR           (no PIN)
//                                   │     └─ HMAC → TPM lockout authorization, dom0 keys
//                                   └─ revocable key (persistent, never exported)
//                                         └─ device secret    PolicyPCR + PolicyAuthValue(PIN)
//                                               └─ keyslot passphrase = HMAC(device secret) ":" PIN
//                                                     └─ argon2id → LUKS2 keyslot → volume key
//
// Unlocking needs this TPM, the measured boot state and the PIN; wiping evicts the revocable
// key and destroys every keyslot, so neither a copied disk nor a copied sealed file helps.
#include "twofold/keystore/luks_volume.h"
#include "twofold/keystore/sealed_blob.h"
#include "twofold/keystore/tpm.h"

#include <optional>
#include <string>
#include <vector>

namespace twofold::keystore {

inline constexpr std::size_t kMaxPinBytes = 256;

// dom0's own secret: released on a genuine boot without any PIN, used for what dom0 needs
// unattended (the TPM's lockout authorization, its own keys).
class Dom0Secret {
 public:
  // Unseals the blob at `path`, or makes and seals a new secret when there is none. Throws
  // when the blob exists but the measurements changed (dom0 is then not the one it was).
  static Dom0Secret open_or_create(Tpm& tpm, const std::string& path, const PcrSelection& pcrs);
  Secret derive(std::string_view label) const;  // HMAC-SHA256(secret, label)

 private:
  explicit Dom0Secret(Secret s) : secret_(std::move(s)) {}
  Secret secret_;
};

struct SecureVolumeConfig {
  std::string blob_path;    // the sealed device secret
  std::string volume_path;  // the LUKS2 volume (file or block device)
  std::string mapper_name;  // /dev/mapper/<name> once unlocked
  PcrSelection pcrs;
  std::uint32_t retry_limit = 5;  // wrong PINs in a row before the crypto-erase
  KdfCost kdf;
};

enum class Outcome {
  ok,
  wrong_pin,
  measurements_changed,
  locked_out,
  wiped,            // this attempt used up the last try: the volume is crypto-erased
  not_provisioned,  // no sealed secret (first boot, or after a wipe)
  invalid_pin,      // empty or too long
};

std::string_view to_string(Outcome o);

struct Report {
  Outcome outcome;
  std::uint32_t attempts_left = 0;
  std::vector<unsigned> changed_pcrs;  // measurements_changed: which PCRs differ
  std::string detail;
  // unlock: the PIN check in the TPM (policy session, unseal) and the LUKS2 keyslot's
  // argon2id with the dm-crypt activation, for the figures in docs/benchmarks.md.
  std::uint32_t tpm_ms = 0;
  std::uint32_t kdf_ms = 0;
};

struct VolumeStatus {
  bool provisioned = false;  // sealed secret, revocable key and LUKS2 keyslots all present
  bool unlocked = false;
  std::uint32_t attempts_left = 0;
  std::vector<unsigned> changed_pcrs;
  std::string detail;
};

class SecureVolume {
 public:
  SecureVolume(Tpm& tpm, const Dom0Secret& dom0, SecureVolumeConfig config);

  VolumeStatus status();
  // First use: a new device secret sealed to the current measurements and `pin`, the volume
  // formatted (LUKS2) and the TPM's dictionary-attack limit set to the retry limit.
  Report provision(const Secret& pin);
  Report unlock(const Secret& pin);  // and activate /dev/mapper/<name>
  // The PIN is right and the keyslot opens, nothing activated (tests, hosts without dm).
  Report verify(const Secret& pin);
  void lock();                       // deactivate
  Report change_pin(const Secret& old_pin, const Secret& new_pin);
  // A new device secret and keyslot; the volume key (and so the data) stays.
  Report rotate(const Secret& pin);
  void wipe();

 private:
  std::optional<SealedBlob> read_blob(std::string* why);
  Report check_pin(const Secret& pin, const SealedBlob& blob, Secret* secret_out);
  // The sealed file read and the PIN checked in the TPM: ok with the device secret in
  // *secret_out, or the outcome that ends the request (not provisioned, wrong PIN, ...).
  Report unseal_with_pin(const Secret& pin, Secret* secret_out);
  Secret keyslot_passphrase(const Secret& device_secret, const Secret& pin) const;
  std::vector<unsigned> changed_pcrs(const SealedBlob& blob);
  std::uint32_t attempts_left();
  SealedBlob seal_new(const Secret& secret, const Secret& pin);
  void configure_lockout();

  Tpm& tpm_;
  const Dom0Secret& dom0_;
  SecureVolumeConfig config_;
};

bool pin_is_valid(const Secret& pin);

}  // namespace twofold::keystore
