#include "twofold/audit/keys.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include <openssl/bio.h>
#include <openssl/pem.h>

#include "twofold/audit/hash.h"

namespace twofold::audit {
namespace {

struct BioDeleter {
  void operator()(BIO* bio) const { BIO_free(bio); }
};
using BioPtr = std::unique_ptr<BIO, BioDeleter>;

struct MdCtxDeleter {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, MdCtxDeleter>;

struct PkeyCtxDeleter {
  void operator()(EVP_PKEY_CTX* ctx) const { EVP_PKEY_CTX_free(ctx); }
};

// Upper bound on a PEM key file we are willing to read: an Ed25519 PEM is ~120 bytes.
constexpr std::streamsize kMaxPemBytes = 16 * 1024;

std::string read_small_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw KeyError("cannot open key file " + path.string() + ": " + std::strerror(errno));
  std::string data(static_cast<std::size_t>(kMaxPemBytes) + 1, '\0');
  in.read(data.data(), kMaxPemBytes + 1);
  const std::streamsize got = in.gcount();
  if (got > kMaxPemBytes) throw KeyError("key file " + path.string() + " is too large");
  data.resize(static_cast<std::size_t>(got));
  return data;
}

BioPtr memory_bio(std::string_view data) {
  if (data.size() > static_cast<std::size_t>(kMaxPemBytes)) throw KeyError("key PEM is too large");
  BioPtr bio(BIO_new_mem_buf(data.data(), static_cast<int>(data.size())));
  if (!bio) throw KeyError("out of memory reading key");
  return bio;
}

std::string bio_contents(BIO* bio) {
  const std::size_t pending = BIO_ctrl_pending(bio);
  std::string out(pending, '\0');
  if (pending > 0 && BIO_read(bio, out.data(), static_cast<int>(pending)) != static_cast<int>(pending)) {
    throw KeyError("cannot serialise key");
  }
  return out;
}

void require_ed25519(EVP_PKEY* key, const std::string& what) {
  if (key == nullptr || EVP_PKEY_get_id(key) != EVP_PKEY_ED25519) {
    throw KeyError(what + " is not an Ed25519 key");
  }
}

void write_new_file(const std::filesystem::path& path, std::string_view data, mode_t mode) {
  // O_EXCL: keygen never overwrites a key (that would orphan every log sealed with it).
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) throw KeyError("cannot create " + path.string() + ": " + std::strerror(errno));
  std::size_t done = 0;
  int error = 0;
  while (done < data.size()) {
    const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      error = errno;
      break;
    }
    done += static_cast<std::size_t>(n);
  }
  if (error == 0 && ::fsync(fd) != 0) error = errno;
  ::close(fd);
  if (error != 0) throw KeyError("cannot write " + path.string() + ": " + std::strerror(error));
}

}  // namespace

std::string key_id_of(EVP_PKEY* key) {
  std::array<std::uint8_t, 32> raw{};
  std::size_t length = raw.size();
  if (EVP_PKEY_get_raw_public_key(key, raw.data(), &length) != 1 || length != raw.size()) {
    throw KeyError("cannot read raw Ed25519 public key");
  }
  const Digest digest = sha256(raw);
  return to_hex(std::span<const std::uint8_t>(digest.data(), 8));
}

SigningKey::SigningKey(PkeyPtr key) : key_(std::move(key)), key_id_(key_id_of(key_.get())) {}

SigningKey SigningKey::generate() {
  std::unique_ptr<EVP_PKEY_CTX, PkeyCtxDeleter> ctx(EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, nullptr));
  EVP_PKEY* raw = nullptr;
  if (!ctx || EVP_PKEY_keygen_init(ctx.get()) != 1 || EVP_PKEY_keygen(ctx.get(), &raw) != 1) {
    throw KeyError("Ed25519 key generation failed");
  }
  return SigningKey(PkeyPtr(raw));
}

SigningKey SigningKey::load_pem(const std::filesystem::path& path) {
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0) {
    throw KeyError("cannot stat " + path.string() + ": " + std::strerror(errno));
  }
  if ((info.st_mode & 077) != 0) {
    throw KeyError("private key " + path.string() +
                   " is readable or writable by group/others; chmod 0600 it");
  }
  try {
    return from_pem(read_small_file(path));
  } catch (const KeyError& error) {
    throw KeyError(path.string() + ": " + error.what());
  }
}

SigningKey SigningKey::from_pem(std::string_view pem) {
  BioPtr bio = memory_bio(pem);
  PkeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  if (!key) throw KeyError("not a PEM private key");
  require_ed25519(key.get(), "private key");
  return SigningKey(std::move(key));
}

Signature SigningKey::sign(std::span<const std::uint8_t> message) const {
  MdCtxPtr ctx(EVP_MD_CTX_new());
  Signature signature{};
  std::size_t length = signature.size();
  // Ed25519 hashes internally: the digest argument must be NULL (one-shot DigestSign).
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, key_.get()) != 1 ||
      EVP_DigestSign(ctx.get(), signature.data(), &length, message.data(), message.size()) != 1 ||
      length != signature.size()) {
    throw KeyError("Ed25519 signing failed");
  }
  return signature;
}

std::string SigningKey::private_pem() const {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PrivateKey(bio.get(), key_.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    throw KeyError("cannot serialise private key");
  }
  return bio_contents(bio.get());
}

std::string SigningKey::public_pem() const {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PUBKEY(bio.get(), key_.get()) != 1) {
    throw KeyError("cannot serialise public key");
  }
  return bio_contents(bio.get());
}

VerifyKey::VerifyKey(PkeyPtr key) : key_(std::move(key)), key_id_(key_id_of(key_.get())) {}

VerifyKey VerifyKey::from_pem(std::string_view pem) {
  BioPtr bio = memory_bio(pem);
  PkeyPtr key(PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr));
  if (!key) throw KeyError("not a PEM public key");
  require_ed25519(key.get(), "public key");
  return VerifyKey(std::move(key));
}

VerifyKey VerifyKey::load_pem(const std::filesystem::path& path) {
  try {
    return from_pem(read_small_file(path));
  } catch (const KeyError& error) {
    throw KeyError(path.string() + ": " + error.what());
  }
}

bool VerifyKey::verify(std::span<const std::uint8_t> message, const Signature& signature) const {
  MdCtxPtr ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, key_.get()) != 1) {
    throw KeyError("Ed25519 verification could not start");
  }
  return EVP_DigestVerify(ctx.get(), signature.data(), signature.size(), message.data(),
                          message.size()) == 1;
}

KeyFiles generate_key_files(const std::filesystem::path& directory) {
  std::error_code error;
  std::filesystem::create_directories(directory, error);
  if (error) throw KeyError("cannot create " + directory.string() + ": " + error.message());
  for (std::string_view name : {kPrivateKeyFile, kPublicKeyFile}) {
    if (std::filesystem::exists(directory / name)) {
      throw KeyError("refusing to overwrite " + (directory / name).string());
    }
  }
  const SigningKey key = SigningKey::generate();
  KeyFiles files{directory / kPrivateKeyFile, directory / kPublicKeyFile, key.key_id()};
  write_new_file(files.private_key, key.private_pem(), 0600);
  write_new_file(files.public_key, key.public_pem(), 0644);
  return files;
}

}  // namespace twofold::audit
