#include "twofold/audit/hash.h"

#include <memory>
#include <stdexcept>

#include <openssl/evp.h>

namespace twofold::audit {
namespace {

struct MdCtxDeleter {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};

std::span<const std::uint8_t> as_bytes(std::string_view text) {
  return {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()};
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

}  // namespace

Digest sha256(std::span<const std::uint8_t> a, std::span<const std::uint8_t> b,
              std::span<const std::uint8_t> c) {
  std::unique_ptr<EVP_MD_CTX, MdCtxDeleter> ctx(EVP_MD_CTX_new());
  Digest out{};
  unsigned int length = 0;
  // OpenSSL only fails here on allocation failure or a broken provider: nothing a caller
  // could recover from, and a wrong hash must never be returned silently.
  if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1 ||
      EVP_DigestUpdate(ctx.get(), a.data(), a.size()) != 1 ||
      EVP_DigestUpdate(ctx.get(), b.data(), b.size()) != 1 ||
      EVP_DigestUpdate(ctx.get(), c.data(), c.size()) != 1 ||
      EVP_DigestFinal_ex(ctx.get(), out.data(), &length) != 1 || length != out.size()) {
    throw std::runtime_error("audit: SHA-256 failed in OpenSSL");
  }
  return out;
}

Digest genesis_chain() { return sha256(as_bytes(kGenesisLabel)); }

Digest leaf_hash(std::string_view canonical_record) {
  const std::uint8_t prefix[1] = {kLeafPrefix};
  return sha256(prefix, as_bytes(canonical_record));
}

Digest chain_hash(const Digest& previous, const Digest& leaf) {
  const std::uint8_t prefix[1] = {kChainPrefix};
  return sha256(prefix, previous, leaf);
}

std::string to_hex(std::span<const std::uint8_t> bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (std::uint8_t byte : bytes) {
    out.push_back(kDigits[byte >> 4]);
    out.push_back(kDigits[byte & 0x0f]);
  }
  return out;
}

bool bytes_from_hex(std::string_view hex, std::span<std::uint8_t> out) {
  if (hex.size() != out.size() * 2) return false;
  for (std::size_t i = 0; i < out.size(); ++i) {
    const int high = hex_value(hex[2 * i]);
    const int low = hex_value(hex[2 * i + 1]);
    if (high < 0 || low < 0) return false;
    out[i] = static_cast<std::uint8_t>((high << 4) | low);
  }
  return true;
}

std::optional<Digest> digest_from_hex(std::string_view hex) {
  Digest out{};
  if (!bytes_from_hex(hex, out)) return std::nullopt;
  return out;
}

}  // namespace twofold::audit
