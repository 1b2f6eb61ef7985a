#include "twofold/keystore/dom0_keys.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <stdexcept>

namespace twofold::keystore {

namespace {

constexpr std::size_t kEd25519SeedBytes = 32;

using PkeyPtr = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;
using BioPtr = std::unique_ptr<BIO, decltype(&BIO_free)>;

std::string bio_text(BIO* bio) {
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio, &data);
  return n > 0 ? std::string(data, static_cast<std::size_t>(n)) : std::string();
}

std::string_view label_of(Dom0KeyPurpose p) {
  switch (p) {
    case Dom0KeyPurpose::audit_signing: return "twofold dom0 key: audit-signing (Ed25519 seed) v1";
    case Dom0KeyPurpose::modem_number: return "twofold dom0 key: modem-number (HMAC key) v1";
  }
  throw std::invalid_argument("unknown dom0 key purpose");
}

void write_file(const std::string& path, std::string_view bytes, mode_t mode) {
  const std::string tmp = path + ".new";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
  if (fd < 0) throw std::runtime_error("cannot create " + tmp + ": " + std::strerror(errno));
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int err = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      throw std::runtime_error("cannot write " + tmp + ": " + std::strerror(err));
    }
    done += static_cast<std::size_t>(n);
  }
  // The mode asked for, whatever the umask: a key file readable by others is a leak.
  if (::fchmod(fd, mode) != 0 || ::fsync(fd) != 0) {
    const int err = errno;
    ::close(fd);
    ::unlink(tmp.c_str());
    throw std::runtime_error("cannot finish " + tmp + ": " + std::strerror(err));
  }
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    throw std::runtime_error("cannot rename " + tmp + " to " + path + ": " + std::strerror(err));
  }
}

}  // namespace

std::optional<Dom0KeyPurpose> parse_dom0_key_purpose(std::string_view text) {
  if (text == "audit-signing") return Dom0KeyPurpose::audit_signing;
  if (text == "modem-number") return Dom0KeyPurpose::modem_number;
  return std::nullopt;
}

Dom0Key derive_dom0_key(const Dom0Secret& dom0, Dom0KeyPurpose purpose) {
  Secret derived = dom0.derive(label_of(purpose));
  if (purpose == Dom0KeyPurpose::modem_number) return Dom0Key{std::move(derived), {}};

  if (derived.size() < kEd25519SeedBytes) throw std::logic_error("derived seed too short");
  PkeyPtr key(EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr, derived.bytes().data(), kEd25519SeedBytes),
              EVP_PKEY_free);
  if (!key) throw std::runtime_error("OpenSSL cannot make an Ed25519 key from the derived seed");
  BioPtr priv(BIO_new(BIO_s_secmem()), BIO_free);
  BioPtr pub(BIO_new(BIO_s_mem()), BIO_free);
  if (!priv || !pub || PEM_write_bio_PrivateKey(priv.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1 ||
      PEM_write_bio_PUBKEY(pub.get(), key.get()) != 1) {
    throw std::runtime_error("OpenSSL cannot encode the audit signing key");
  }
  std::string pem = bio_text(priv.get());
  Secret pem_secret = Secret::from_string(pem);
  OPENSSL_cleanse(pem.data(), pem.size());
  return Dom0Key{std::move(pem_secret), bio_text(pub.get())};
}

void write_dom0_key(const Dom0Key& key, const std::string& private_path, const std::string& public_path) {
  write_file(private_path, key.private_bytes.view(), 0600);
  if (!public_path.empty()) {
    if (key.public_pem.empty()) throw std::invalid_argument("this key has no public part");
    write_file(public_path, key.public_pem, 0644);
  }
}

}  // namespace twofold::keystore
