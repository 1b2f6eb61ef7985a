#pragma once
// OMEMO 0.3's message payload: AES-128-GCM under a fresh key per message; the per-device
// key material that the Signal session carries is key (16 bytes) followed by the GCM tag
// (16 bytes), as Conversations, Dino and profanity do. OpenSSL does the cipher.
#include <optional>
#include <string>
#include <string_view>

#include "twofold/messenger/bytes.h"

namespace twofold::messenger {

inline constexpr std::size_t kPayloadKeySize = 16;
inline constexpr std::size_t kPayloadTagSize = 16;
inline constexpr std::size_t kPayloadIvSize = 12;

struct SealedPayload {
  Bytes key_and_tag;  // 32 bytes, to be encrypted for each recipient device
  Bytes iv;
  Bytes ciphertext;
};

SealedPayload seal_payload(std::string_view plaintext);
// `key_and_tag` may also be 16 bytes of key with the tag appended to the ciphertext
// (older clients); nullopt when the tag does not verify.
std::optional<std::string> open_payload(const Bytes& key_and_tag, const Bytes& iv, const Bytes& ciphertext);

}  // namespace twofold::messenger
