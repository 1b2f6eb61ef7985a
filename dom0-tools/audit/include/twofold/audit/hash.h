#pragma once
// Hash chain primitives (SHA-256 through OpenSSL EVP), domain-separated as in Certificate
// Transparency (RFC 6962): a leaf can never be mistaken for a chain link.
//   leaf_n  = SHA-256(0x00 || canonical record bytes)
//   chain_0 = SHA-256("twofold-audit-v1 genesis")          (genesis, before record 1)
//   chain_n = SHA-256(0x01 || chain_{n-1} || leaf_n)

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace twofold::audit {

using Digest = std::array<std::uint8_t, 32>;

inline constexpr std::string_view kGenesisLabel = "twofold-audit-v1 genesis";
inline constexpr std::uint8_t kLeafPrefix = 0x00;
inline constexpr std::uint8_t kChainPrefix = 0x01;

[[nodiscard]] Digest sha256(std::span<const std::uint8_t> a, std::span<const std::uint8_t> b = {},
                            std::span<const std::uint8_t> c = {});
[[nodiscard]] Digest genesis_chain();
[[nodiscard]] Digest leaf_hash(std::string_view canonical_record);
[[nodiscard]] Digest chain_hash(const Digest& previous, const Digest& leaf);

[[nodiscard]] std::string to_hex(std::span<const std::uint8_t> bytes);
// Strict: lower-case hex only, exact length; anything else is rejected.
[[nodiscard]] std::optional<Digest> digest_from_hex(std::string_view hex);
[[nodiscard]] bool bytes_from_hex(std::string_view hex, std::span<std::uint8_t> out);

}  // namespace twofold::audit
