#pragma once
// The secure persona's data volume: LUKS2 (aes-xts-plain64, 512-bit volume key) through
// libcryptsetup. Keyslots are argon2id-stretched, so each PIN guess against a copied disk
// costs the KDF's memory and time even with the device secret in hand.
#include "twofold/keystore/secret.h"

#include <cstdint>
#include <memory>
#include <string>

struct crypt_device;

namespace twofold::keystore {

struct KdfCost {
  std::uint32_t time_ms = 1000;        // benchmarked on the device at keyslot creation
  std::uint32_t memory_kib = 65536;    // upper bound for the benchmark
  std::uint32_t parallel = 1;
  std::uint32_t fixed_iterations = 0;  // non-zero: no benchmark (tests)
};

class LuksVolume {
 public:
  explicit LuksVolume(std::string path);  // a file or block device
  ~LuksVolume();
  LuksVolume(const LuksVolume&) = delete;
  LuksVolume& operator=(const LuksVolume&) = delete;

  const std::string& path() const { return path_; }
  bool is_luks2();
  // A fresh LUKS2 header with one keyslot. Erases whatever the volume held.
  void format(const Secret& passphrase, const KdfCost& kdf);
  bool opens_with(const Secret& passphrase);
  void activate(const std::string& name, const Secret& passphrase);
  static void deactivate(const std::string& name);
  static bool is_active(const std::string& name);
  int add_keyslot(const Secret& existing, const Secret& added, const KdfCost& kdf);
  void remove_keyslot_of(const Secret& passphrase);
  int active_keyslots();
  // Crypto-erase: every keyslot (and so every wrapped copy of the volume key) destroyed.
  void destroy_all_keyslots();

 private:
  crypt_device* load();
  void set_kdf(const KdfCost& kdf);

  struct Free {
    void operator()(crypt_device* cd) const;
  };
  std::string path_;
  std::unique_ptr<crypt_device, Free> cd_;
};

}  // namespace twofold::keystore
