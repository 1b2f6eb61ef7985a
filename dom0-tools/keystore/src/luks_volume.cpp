#include "twofold/keystore/luks_volume.h"

#include <libcryptsetup.h>

#include <cstring>
#include <filesystem>
#include <fmt/format.h>
#include <stdexcept>

namespace twofold::keystore {
namespace {

void check(int rc, std::string_view what, const std::string& path) {
  if (rc < 0) {
    throw std::runtime_error(fmt::format("LUKS: {} on {}: {}", what, path, std::strerror(-rc)));
  }
}

}  // namespace

void LuksVolume::Free::operator()(crypt_device* cd) const { crypt_free(cd); }

LuksVolume::LuksVolume(std::string path) : path_(std::move(path)) {
  crypt_device* cd = nullptr;
  check(crypt_init(&cd, path_.c_str()), "opening", path_);
  cd_.reset(cd);
}

LuksVolume::~LuksVolume() = default;

bool LuksVolume::is_luks2() { return crypt_load(cd_.get(), CRYPT_LUKS2, nullptr) == 0; }

crypt_device* LuksVolume::load() {
  check(crypt_load(cd_.get(), CRYPT_LUKS2, nullptr), "reading the LUKS2 header", path_);
  return cd_.get();
}

void LuksVolume::set_kdf(const KdfCost& kdf) {
  crypt_pbkdf_type p{};
  p.type = CRYPT_KDF_ARGON2ID;
  p.hash = "sha256";
  p.time_ms = kdf.time_ms;
  p.max_memory_kb = kdf.memory_kib;
  p.parallel_threads = kdf.parallel;
  if (kdf.fixed_iterations != 0) {
    p.iterations = kdf.fixed_iterations;
    p.flags = CRYPT_PBKDF_NO_BENCHMARK;
  }
  check(crypt_set_pbkdf_type(cd_.get(), &p), "setting argon2id", path_);
}

void LuksVolume::format(const Secret& passphrase, const KdfCost& kdf) {
  // A fresh handle: crypt_format refuses a context that already loaded a header.
  crypt_device* cd = nullptr;
  check(crypt_init(&cd, path_.c_str()), "opening", path_);
  cd_.reset(cd);
  set_kdf(kdf);
  crypt_params_luks2 params{};
  params.sector_size = 4096;
  check(crypt_format(cd_.get(), CRYPT_LUKS2, "aes", "xts-plain64", nullptr, nullptr, 64, &params),
        "formatting", path_);
  check(crypt_keyslot_add_by_volume_key(cd_.get(), CRYPT_ANY_SLOT, nullptr, 0,
                                        passphrase.view().data(), passphrase.size()),
        "adding the first keyslot", path_);
}

bool LuksVolume::opens_with(const Secret& passphrase) {
  load();
  return crypt_activate_by_passphrase(cd_.get(), nullptr, CRYPT_ANY_SLOT,
                                      passphrase.view().data(), passphrase.size(), 0) >= 0;
}

void LuksVolume::activate(const std::string& name, const Secret& passphrase) {
  load();
  check(crypt_activate_by_passphrase(cd_.get(), name.c_str(), CRYPT_ANY_SLOT,
                                     passphrase.view().data(), passphrase.size(), 0),
        "activating " + name, path_);
}

void LuksVolume::deactivate(const std::string& name) {
  if (!is_active(name)) return;
  const int rc = crypt_deactivate(nullptr, name.c_str());
  if (rc < 0 && rc != -ENODEV) check(rc, "deactivating " + name, name);
}

bool LuksVolume::is_active(const std::string& name) {
  // The mapper node, not crypt_status(): a dom0 or test host without device-mapper has none.
  std::error_code ec;
  return std::filesystem::exists("/dev/mapper/" + name, ec);
}

int LuksVolume::add_keyslot(const Secret& existing, const Secret& added, const KdfCost& kdf) {
  load();
  set_kdf(kdf);
  const int slot = crypt_keyslot_add_by_passphrase(cd_.get(), CRYPT_ANY_SLOT,
                                                   existing.view().data(), existing.size(),
                                                   added.view().data(), added.size());
  check(slot, "adding a keyslot", path_);
  return slot;
}

void LuksVolume::remove_keyslot_of(const Secret& passphrase) {
  load();
  const int slot = crypt_activate_by_passphrase(cd_.get(), nullptr, CRYPT_ANY_SLOT,
                                                passphrase.view().data(), passphrase.size(), 0);
  check(slot, "finding the keyslot to remove", path_);
  check(crypt_keyslot_destroy(cd_.get(), slot), "destroying a keyslot", path_);
}

int LuksVolume::active_keyslots() {
  load();
  int n = 0;
  const int max = crypt_keyslot_max(CRYPT_LUKS2);
  for (int i = 0; i < max; ++i) {
    const crypt_keyslot_info st = crypt_keyslot_status(cd_.get(), i);
    if (st == CRYPT_SLOT_ACTIVE || st == CRYPT_SLOT_ACTIVE_LAST) ++n;
  }
  return n;
}

void LuksVolume::destroy_all_keyslots() {
  load();
  const int max = crypt_keyslot_max(CRYPT_LUKS2);
  for (int i = 0; i < max; ++i) {
    const crypt_keyslot_info st = crypt_keyslot_status(cd_.get(), i);
    if (st == CRYPT_SLOT_ACTIVE || st == CRYPT_SLOT_ACTIVE_LAST) {
      // crypt_keyslot_destroy overwrites the keyslot area in both header copies.
      check(crypt_keyslot_destroy(cd_.get(), i), "destroying a keyslot", path_);
    }
  }
}

}  // namespace twofold::keystore
