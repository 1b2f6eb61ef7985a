#pragma once
// Byte strings and their text forms. Base64 goes through OpenSSL's EVP_{En,De}codeBlock:
// XMPP carries every OMEMO key and ciphertext as base64 text.
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace twofold::messenger {

using Bytes = std::vector<std::uint8_t>;

std::string base64_encode(std::span<const std::uint8_t> data);
// Strict: standard alphabet, padding required, whitespace (line breaks some clients insert)
// skipped; anything else -> nullopt. `max_decoded` bounds the work done on hostile input.
std::optional<Bytes> base64_decode(std::string_view text, std::size_t max_decoded);

std::string hex_encode(std::span<const std::uint8_t> data);

// Wipes a secret before its storage is released (OPENSSL_cleanse cannot be optimised out).
void cleanse(Bytes& secret);

}  // namespace twofold::messenger
