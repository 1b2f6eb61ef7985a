#include "twofold/keystore/keystore.h"

#include <openssl/crypto.h>
#include <openssl/hmac.h>

#include <chrono>
#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <sstream>

namespace twofold::keystore {
namespace {

constexpr std::size_t kSecretBytes = 32;
constexpr std::uint32_t kRecoverySeconds = 24 * 3600;  // one failure forgiven per day
constexpr std::uint32_t kLockoutRecoverySeconds = 24 * 3600;
constexpr std::string_view kLockoutLabel = "twofold tpm lockout authorization v1";
constexpr std::string_view kKeyslotLabel = "twofold luks keyslot v1";

Secret hmac(const Secret& key, std::string_view label) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (HMAC(EVP_sha256(), key.bytes().data(), static_cast<int>(key.size()),
           reinterpret_cast<const unsigned char*>(label.data()), label.size(), md, &len) ==
      nullptr) {
    throw std::runtime_error("HMAC-SHA256 failed");
  }
  Secret s(std::span<const std::uint8_t>(md, len));
  OPENSSL_cleanse(md, sizeof md);
  return s;
}

std::optional<std::string> read_small_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::string text(kMaxBlobFileBytes + 1, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<std::size_t>(in.gcount()));
  return text;
}

}  // namespace

std::string_view to_string(Outcome o) {
  switch (o) {
    case Outcome::ok: return "ok";
    case Outcome::wrong_pin: return "wrong-pin";
    case Outcome::measurements_changed: return "measurements-changed";
    case Outcome::locked_out: return "locked-out";
    case Outcome::wiped: return "wiped";
    case Outcome::not_provisioned: return "not-provisioned";
    case Outcome::invalid_pin: return "invalid-pin";
  }
  return "?";
}

bool pin_is_valid(const Secret& pin) { return !pin.empty() && pin.size() <= kMaxPinBytes; }

Dom0Secret Dom0Secret::open_or_create(Tpm& tpm, const std::string& path,
                                      const PcrSelection& pcrs) {
  if (auto text = read_small_file(path)) {
    auto parsed = parse_sealed_blob(*text);
    if (auto* err = std::get_if<BlobError>(&parsed)) {
      throw std::runtime_error(fmt::format("{}: {}", path, err->message));
    }
    const auto& blob = std::get<SealedBlob>(parsed);
    if (blob.pin || blob.parent != Parent::storage_root || blob.pcrs != pcrs) {
      throw std::runtime_error(path + ": not dom0's sealed secret for these PCRs");
    }
    auto r = tpm.unseal(Parent::storage_root, blob.object, blob.pcrs, nullptr);
    if (r.status != UnsealStatus::ok) {
      throw std::runtime_error(path + ": the TPM does not release dom0's secret: the measured "
                               "boot state is not the one it was sealed to");
    }
    return Dom0Secret(std::move(r.secret));
  }
  Secret secret = random_secret(kSecretBytes);
  SealedBlob blob;
  blob.purpose = "dom0";
  blob.parent = Parent::storage_root;
  blob.pin = false;
  blob.pcrs = pcrs;
  blob.pcr_values = tpm.read(pcrs);
  blob.parent_name = tpm.parent_name(Parent::storage_root);
  blob.object = tpm.seal(Parent::storage_root, secret, pcrs, nullptr);
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  write_file_durably(path, serialize_sealed_blob(blob));
  return Dom0Secret(std::move(secret));
}

Secret Dom0Secret::derive(std::string_view label) const { return hmac(secret_, label); }

SecureVolume::SecureVolume(Tpm& tpm, const Dom0Secret& dom0, SecureVolumeConfig config)
    : tpm_(tpm), dom0_(dom0), config_(std::move(config)) {}

std::optional<SealedBlob> SecureVolume::read_blob(std::string* why) {
  auto text = read_small_file(config_.blob_path);
  if (!text) {
    *why = "no sealed secret at " + config_.blob_path;
    return std::nullopt;
  }
  auto parsed = parse_sealed_blob(*text);
  if (auto* err = std::get_if<BlobError>(&parsed)) {
    *why = fmt::format("{}: {}", config_.blob_path, err->message);
    return std::nullopt;
  }
  auto blob = std::get<SealedBlob>(std::move(parsed));
  if (!blob.pin || blob.parent != Parent::revocable || blob.purpose != "secure-volume") {
    *why = config_.blob_path + ": not a PIN-protected secure-volume secret";
    return std::nullopt;
  }
  return blob;
}

std::vector<unsigned> SecureVolume::changed_pcrs(const SealedBlob& blob) {
  std::vector<unsigned> changed;
  const auto now = tpm_.read(blob.pcrs);
  for (const auto& [i, d] : blob.pcr_values) {
    const auto it = now.find(i);
    if (it == now.end() || it->second != d) changed.push_back(i);
  }
  return changed;
}

std::uint32_t SecureVolume::attempts_left() {
  const auto st = tpm_.lockout_state();
  if (st.in_lockout || st.failures >= config_.retry_limit) return 0;
  return config_.retry_limit - st.failures;
}

Secret SecureVolume::keyslot_passphrase(const Secret& device_secret, const Secret& pin) const {
  const Secret mac = hmac(device_secret, kKeyslotLabel);
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string s;
  s.reserve(mac.size() * 2 + 1 + pin.size());
  for (std::uint8_t b : mac.bytes()) {
    s += kDigits[b >> 4];
    s += kDigits[b & 0xf];
  }
  s += ':';
  s.append(pin.view());
  Secret out = Secret::from_string(s);
  OPENSSL_cleanse(s.data(), s.size());
  return out;
}

void SecureVolume::configure_lockout() {
  const Secret lockout_auth = dom0_.derive(kLockoutLabel);
  if (!tpm_.lockout_auth_set()) tpm_.set_lockout_auth(Secret{}, lockout_auth);
  tpm_.set_dictionary_parameters(lockout_auth, config_.retry_limit, kRecoverySeconds,
                                 kLockoutRecoverySeconds);
}

SealedBlob SecureVolume::seal_new(const Secret& secret, const Secret& pin) {
  SealedBlob blob;
  blob.purpose = "secure-volume";
  blob.parent = Parent::revocable;
  blob.pin = true;
  blob.pcrs = config_.pcrs;
  blob.pcr_values = tpm_.read(config_.pcrs);
  blob.parent_name = tpm_.parent_name(Parent::revocable);
  blob.object = tpm_.seal(Parent::revocable, secret, config_.pcrs, &pin);
  return blob;
}

VolumeStatus SecureVolume::status() {
  VolumeStatus st;
  std::string why;
  auto blob = read_blob(&why);
  st.unlocked = LuksVolume::is_active(config_.mapper_name);
  st.attempts_left = attempts_left();
  if (!blob) {
    st.detail = why;
    return st;
  }
  if (!tpm_.has_revocable_key()) {
    st.detail = "the TPM's revocable key is gone (wiped)";
    return st;
  }
  LuksVolume vol(config_.volume_path);
  if (!vol.is_luks2() || vol.active_keyslots() == 0) {
    st.detail = config_.volume_path + " has no LUKS2 keyslot";
    return st;
  }
  st.provisioned = true;
  st.changed_pcrs = changed_pcrs(*blob);
  st.detail = st.changed_pcrs.empty() ? "sealed to the current measurements"
                                      : "measurements changed since sealing";
  return st;
}

Report SecureVolume::provision(const Secret& pin) {
  if (!pin_is_valid(pin)) return {Outcome::invalid_pin, 0, {}, "a PIN has 1 to 256 bytes"};
  if (status().provisioned) {
    throw std::runtime_error("already provisioned: wipe first to start over");
  }
  {
    // A sealed file that is missing or damaged must not cost the officer the data: a volume
    // that still has keyslots is only ever erased on purpose (wipe).
    LuksVolume existing(config_.volume_path);
    if (existing.is_luks2() && existing.active_keyslots() > 0) {
      throw std::runtime_error(config_.volume_path +
                               " holds an encrypted volume whose sealed secret is missing or "
                               "damaged; not reformatting it (twofold secure wipe starts over)");
    }
  }
  configure_lockout();
  tpm_.create_revocable_key();
  Secret secret = random_secret(kSecretBytes);
  SealedBlob blob = seal_new(secret, pin);
  LuksVolume vol(config_.volume_path);
  vol.format(keyslot_passphrase(secret, pin), config_.kdf);
  write_file_durably(config_.blob_path, serialize_sealed_blob(blob));
  return {Outcome::ok, config_.retry_limit, {}, "provisioned"};
}

Report SecureVolume::check_pin(const Secret& pin, const SealedBlob& blob, Secret* secret_out) {
  if (!pin_is_valid(pin)) return {Outcome::invalid_pin, attempts_left(), {}, "a PIN has 1 to 256 bytes"};
  // A changed boot is refused before the PIN is tried: it costs no retry, and the TPM would
  // refuse anyway.
  if (auto changed = changed_pcrs(blob); !changed.empty()) {
    return {Outcome::measurements_changed, attempts_left(), changed,
            "the measured boot state differs from the sealed one"};
  }
  if (!tpm_.has_revocable_key()) {
    return {Outcome::not_provisioned, 0, {}, "the TPM's revocable key is gone (wiped)"};
  }
  if (tpm_.parent_name(Parent::revocable) != blob.parent_name) {
    return {Outcome::measurements_changed, attempts_left(), {},
            "the TPM's revocable key is not the one the secret was sealed under"};
  }
  if (attempts_left() == 0) {
    wipe();
    return {Outcome::wiped, 0, {}, "no tries left: crypto-erased"};
  }
  auto r = tpm_.unseal(Parent::revocable, blob.object, blob.pcrs, &pin);
  switch (r.status) {
    case UnsealStatus::ok:
      tpm_.reset_lockout(dom0_.derive(kLockoutLabel));
      *secret_out = std::move(r.secret);
      return {Outcome::ok, config_.retry_limit, {}, "PIN accepted"};
    case UnsealStatus::wrong_pin:
    case UnsealStatus::locked_out: {
      const std::uint32_t left = attempts_left();
      if (left == 0) {
        wipe();
        return {Outcome::wiped, 0, {}, "last try used: crypto-erased"};
      }
      if (r.status == UnsealStatus::locked_out) {
        return {Outcome::locked_out, left, {}, "the TPM is in dictionary-attack lockout"};
      }
      return {Outcome::wrong_pin, left, {}, "wrong PIN"};
    }
    case UnsealStatus::measurements_changed:
      return {Outcome::measurements_changed, attempts_left(), {}, "the TPM's PCR policy fails"};
    case UnsealStatus::no_parent:
      return {Outcome::not_provisioned, 0, {}, "the TPM's revocable key is gone (wiped)"};
  }
  return {Outcome::measurements_changed, 0, {}, "?"};
}

Report SecureVolume::unseal_with_pin(const Secret& pin, Secret* secret_out) {
  std::string why;
  auto blob = read_blob(&why);
  if (!blob) return {Outcome::not_provisioned, attempts_left(), {}, why};
  return check_pin(pin, *blob, secret_out);
}

Report SecureVolume::unlock(const Secret& pin) {
  Secret secret;
  using Clock = std::chrono::steady_clock;
  const auto ms_since = [](Clock::time_point t) {
    return static_cast<std::uint32_t>(std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t).count());
  };
  const auto tpm_start = Clock::now();
  Report r = unseal_with_pin(pin, &secret);
  r.tpm_ms = ms_since(tpm_start);
  if (r.outcome != Outcome::ok) return r;
  if (!LuksVolume::is_active(config_.mapper_name)) {
    const auto kdf_start = Clock::now();
    LuksVolume vol(config_.volume_path);
    vol.activate(config_.mapper_name, keyslot_passphrase(secret, pin));
    r.kdf_ms = ms_since(kdf_start);
  }
  r.detail = "unlocked: /dev/mapper/" + config_.mapper_name;
  return r;
}

Report SecureVolume::verify(const Secret& pin) {
  Secret secret;
  Report r = unseal_with_pin(pin, &secret);
  if (r.outcome != Outcome::ok) return r;
  LuksVolume vol(config_.volume_path);
  if (!vol.opens_with(keyslot_passphrase(secret, pin))) {
    return {Outcome::not_provisioned, attempts_left(), {}, "the PIN is right but no keyslot opens"};
  }
  r.detail = "PIN accepted and a keyslot opens";
  return r;
}

void SecureVolume::lock() { LuksVolume::deactivate(config_.mapper_name); }

Report SecureVolume::change_pin(const Secret& old_pin, const Secret& new_pin) {
  if (!pin_is_valid(new_pin)) return {Outcome::invalid_pin, attempts_left(), {}, "a PIN has 1 to 256 bytes"};
  Secret secret;
  Report r = unseal_with_pin(old_pin, &secret);
  if (r.outcome != Outcome::ok) return r;
  // Crash-safe order: new keyslot, new sealed file, then the old keyslot goes. A cut at any
  // point leaves a PIN that opens the volume (the old one until the file is replaced).
  LuksVolume vol(config_.volume_path);
  const Secret old_pass = keyslot_passphrase(secret, old_pin);
  vol.add_keyslot(old_pass, keyslot_passphrase(secret, new_pin), config_.kdf);
  write_file_durably(config_.blob_path, serialize_sealed_blob(seal_new(secret, new_pin)));
  vol.remove_keyslot_of(old_pass);
  return {Outcome::ok, config_.retry_limit, {}, "PIN changed"};
}

Report SecureVolume::rotate(const Secret& pin) {
  Secret secret;
  Report r = unseal_with_pin(pin, &secret);
  if (r.outcome != Outcome::ok) return r;
  Secret fresh = random_secret(kSecretBytes);
  LuksVolume vol(config_.volume_path);
  const Secret old_pass = keyslot_passphrase(secret, pin);
  vol.add_keyslot(old_pass, keyslot_passphrase(fresh, pin), config_.kdf);
  write_file_durably(config_.blob_path, serialize_sealed_blob(seal_new(fresh, pin)));
  vol.remove_keyslot_of(old_pass);
  return {Outcome::ok, config_.retry_limit, {}, "device secret rotated; volume key unchanged"};
}

void SecureVolume::wipe() {
  // TPM side first: once the revocable key is gone no copy of the sealed file can ever be
  // unsealed, even if the disk side is interrupted.
  tpm_.evict_revocable_key();
  LuksVolume::deactivate(config_.mapper_name);
  LuksVolume vol(config_.volume_path);
  if (vol.is_luks2()) vol.destroy_all_keyslots();
  std::error_code ec;
  std::filesystem::remove(config_.blob_path, ec);
}

}  // namespace twofold::keystore
