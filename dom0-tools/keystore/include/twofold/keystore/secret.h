#pragma once
// Key material that wipes itself: every secret the keystore handles (the device secret, PIN
// hashes, keyslot passphrases) lives in one of these so no copy outlives its use in clear.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace twofold::keystore {

class Secret {
 public:
  Secret() = default;
  explicit Secret(std::span<const std::uint8_t> bytes);
  static Secret from_string(std::string_view text);
  Secret(const Secret&) = delete;
  Secret& operator=(const Secret&) = delete;
  Secret(Secret&& other) noexcept;
  Secret& operator=(Secret&& other) noexcept;
  ~Secret();

  std::span<const std::uint8_t> bytes() const { return bytes_; }
  std::string_view view() const {
    return {reinterpret_cast<const char*>(bytes_.data()), bytes_.size()};
  }
  std::size_t size() const { return bytes_.size(); }
  bool empty() const { return bytes_.empty(); }

 private:
  void wipe();
  std::vector<std::uint8_t> bytes_;
};

// 32 bytes from OpenSSL's private DRBG (seeded by the kernel, which the TPM's RNG also feeds).
Secret random_secret(std::size_t size);

}  // namespace twofold::keystore
