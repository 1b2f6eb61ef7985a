#pragma once
// The board's TPM 2.0 through tpm2-tss's ESYS API. One Tpm owns one ESYS context and its
// TCTI ("device:/dev/tpmrm0" on the board, "swtpm:host=127.0.0.1,port=N" in host tests).
// Everything secret crosses the TPM interface encrypted: commands that carry a PIN hash or a
// secret, and Unseal's answer, run in sessions salted to a TPM-resident key with AES-128-CFB
// parameter encryption, so the relay and the bus see ciphertext only.
#include "twofold/keystore/secret.h"

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace twofold::keystore {

using Digest = std::array<std::uint8_t, 32>;  // SHA-256, the only PCR bank we use
using Bytes = std::vector<std::uint8_t>;

class TpmError : public std::runtime_error {
 public:
  TpmError(std::string_view what, std::uint32_t rc);
  std::uint32_t rc() const { return rc_; }

 private:
  std::uint32_t rc_;
};

// A validated set of PCR indices (0..23) in the SHA-256 bank, kept sorted.
class PcrSelection {
 public:
  static constexpr unsigned kMaxPcr = 23;
  static std::optional<PcrSelection> from(std::vector<unsigned> indices);
  const std::vector<unsigned>& indices() const { return indices_; }
  std::string to_string() const;  // "8,9,11"
  bool operator==(const PcrSelection&) const = default;

 private:
  std::vector<unsigned> indices_;
};

using PcrValues = std::map<unsigned, Digest>;

// A sealed object as the TPM returned it (TPM2B_PUBLIC and TPM2B_PRIVATE, marshalled).
struct SealedObject {
  Bytes public_area;
  Bytes private_area;
};

enum class UnsealStatus {
  ok,
  wrong_pin,             // TPM2_RC_AUTH_FAIL: the TPM counted a failure
  measurements_changed,  // the PCR policy does not hold
  locked_out,            // TPM2_RC_LOCKOUT: dictionary-attack lockout
  no_parent,             // the storage key is gone (wiped)
};

struct UnsealResult {
  UnsealStatus status;
  Secret secret;  // set when status == ok
};

struct LockoutState {
  std::uint32_t failures;        // TPM2_PT_LOCKOUT_COUNTER
  std::uint32_t max_tries;       // TPM2_PT_MAX_AUTH_FAIL
  std::uint32_t recovery_seconds;
  bool in_lockout;
};

// Which key a sealed object hangs under.
enum class Parent {
  // The owner hierarchy's storage root key (a primary ECC P-256 key, recreated from the
  // owner seed at every use): for secrets that must outlive a wipe (dom0's own).
  storage_root,
  // A persistent key made once under the SRK, at kRevocableKeyHandle, with no copy of its
  // private part anywhere: evicting it makes every object sealed under it, and every copy of
  // such an object, useless. That is the crypto-erase of the secure persona's secret.
  revocable,
};

class Tpm {
 public:
  static constexpr std::uint32_t kRevocableKeyHandle = 0x81000101;

  explicit Tpm(const std::string& tcti);
  ~Tpm();
  Tpm(const Tpm&) = delete;
  Tpm& operator=(const Tpm&) = delete;

  void extend(unsigned pcr, const Digest& digest);
  // TPM2_Shutdown(CLEAR) before power-off: the next boot then counts no dictionary-attack
  // failure for a power loss (a TPM charges one to a disorderly shutdown).
  void orderly_shutdown();
  PcrValues read(const PcrSelection& pcrs);

  bool has_revocable_key();
  void create_revocable_key();  // no-op if present
  void evict_revocable_key();   // no-op if absent
  // TPM2B_NAME of the parent, to notice a substituted key.
  Bytes parent_name(Parent parent);

  // Seals `secret` to the current values of `pcrs`, and to `pin` when one is given (the
  // object then needs PolicyPCR + PolicyAuthValue and is dictionary-attack protected).
  SealedObject seal(Parent parent, const Secret& secret, const PcrSelection& pcrs,
                    const Secret* pin);
  UnsealResult unseal(Parent parent, const SealedObject& object, const PcrSelection& pcrs,
                      const Secret* pin);

  LockoutState lockout_state();
  bool lockout_auth_set();  // TPMA_PERMANENT_LOCKOUTAUTHSET
  void set_lockout_auth(const Secret& current, const Secret& next);
  void set_dictionary_parameters(const Secret& lockout_auth, std::uint32_t max_tries,
                                 std::uint32_t recovery_seconds,
                                 std::uint32_t lockout_recovery_seconds);
  void reset_lockout(const Secret& lockout_auth);

 private:
  struct Context;
  std::unique_ptr<Context> ctx_;
};

// The TPM's authValue for a PIN: SHA-256 of it, so any length of passphrase fits the
// 32-byte authValue and the PIN itself never reaches the TPM.
Secret pin_auth_value(const Secret& pin);

}  // namespace twofold::keystore
