#include "twofold/keystore/secret.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <stdexcept>

namespace twofold::keystore {

Secret::Secret(std::span<const std::uint8_t> bytes) : bytes_(bytes.begin(), bytes.end()) {}

Secret Secret::from_string(std::string_view text) {
  return Secret(std::span(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()));
}

Secret::Secret(Secret&& other) noexcept : bytes_(std::move(other.bytes_)) { other.bytes_.clear(); }

Secret& Secret::operator=(Secret&& other) noexcept {
  if (this != &other) {
    wipe();
    bytes_ = std::move(other.bytes_);
    other.bytes_.clear();
  }
  return *this;
}

Secret::~Secret() { wipe(); }

void Secret::wipe() {
  if (!bytes_.empty()) OPENSSL_cleanse(bytes_.data(), bytes_.size());
  bytes_.clear();
}

Secret random_secret(std::size_t size) {
  std::vector<std::uint8_t> buf(size);
  if (RAND_priv_bytes(buf.data(), static_cast<int>(size)) != 1) {
    throw std::runtime_error("OpenSSL's random generator failed");
  }
  Secret s(buf);
  OPENSSL_cleanse(buf.data(), buf.size());
  return s;
}

}  // namespace twofold::keystore
