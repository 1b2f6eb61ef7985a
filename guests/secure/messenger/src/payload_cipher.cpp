#include "twofold/messenger/payload_cipher.h"

#include <memory>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdexcept>

namespace twofold::messenger {
namespace {

struct CipherCtxFree {
  void operator()(EVP_CIPHER_CTX* c) const { EVP_CIPHER_CTX_free(c); }
};
using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, CipherCtxFree>;

}  // namespace

SealedPayload seal_payload(std::string_view plaintext) {
  SealedPayload out;
  out.key_and_tag.resize(kPayloadKeySize + kPayloadTagSize);
  out.iv.resize(kPayloadIvSize);
  if (RAND_bytes(out.key_and_tag.data(), static_cast<int>(kPayloadKeySize)) != 1 ||
      RAND_bytes(out.iv.data(), static_cast<int>(out.iv.size())) != 1) {
    throw std::runtime_error("RAND_bytes failed");
  }
  CipherCtx ctx{EVP_CIPHER_CTX_new()};
  if (!ctx || EVP_EncryptInit_ex(ctx.get(), EVP_aes_128_gcm(), nullptr, nullptr, nullptr) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, static_cast<int>(out.iv.size()), nullptr) != 1 ||
      EVP_EncryptInit_ex(ctx.get(), nullptr, nullptr, out.key_and_tag.data(), out.iv.data()) != 1) {
    throw std::runtime_error("AES-GCM init failed");
  }
  out.ciphertext.resize(plaintext.size());
  int n = 0;
  int tail = 0;
  if (EVP_EncryptUpdate(ctx.get(), out.ciphertext.data(), &n,
                        reinterpret_cast<const unsigned char*>(plaintext.data()),
                        static_cast<int>(plaintext.size())) != 1 ||
      EVP_EncryptFinal_ex(ctx.get(), out.ciphertext.data() + n, &tail) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, static_cast<int>(kPayloadTagSize),
                          out.key_and_tag.data() + kPayloadKeySize) != 1) {
    throw std::runtime_error("AES-GCM encrypt failed");
  }
  return out;
}

std::optional<std::string> open_payload(const Bytes& key_and_tag, const Bytes& iv, const Bytes& ciphertext) {
  Bytes data = ciphertext;
  Bytes tag;
  if (key_and_tag.size() == kPayloadKeySize + kPayloadTagSize) {
    tag.assign(key_and_tag.begin() + kPayloadKeySize, key_and_tag.end());
  } else if (key_and_tag.size() == kPayloadKeySize && data.size() >= kPayloadTagSize) {
    tag.assign(data.end() - kPayloadTagSize, data.end());
    data.resize(data.size() - kPayloadTagSize);
  } else {
    return std::nullopt;
  }
  CipherCtx ctx{EVP_CIPHER_CTX_new()};
  if (!ctx || EVP_DecryptInit_ex(ctx.get(), EVP_aes_128_gcm(), nullptr, nullptr, nullptr) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, static_cast<int>(iv.size()), nullptr) != 1 ||
      EVP_DecryptInit_ex(ctx.get(), nullptr, nullptr, key_and_tag.data(), iv.data()) != 1) {
    return std::nullopt;
  }
  std::string out(data.size(), '\0');
  int n = 0;
  int tail = 0;
  if (EVP_DecryptUpdate(ctx.get(), reinterpret_cast<unsigned char*>(out.data()), &n, data.data(),
                        static_cast<int>(data.size())) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, static_cast<int>(tag.size()), tag.data()) != 1 ||
      EVP_DecryptFinal_ex(ctx.get(), reinterpret_cast<unsigned char*>(out.data()) + n, &tail) != 1) {
    return std::nullopt;
  }
  return out;
}

}  // namespace twofold::messenger
