#pragma once
// The sealed-secret file dom0 keeps on its storage disk. Anyone who holds the device can
// rewrite that disk, so the file is parsed into a validated SealedBlob before any of it
// reaches the TPM: exact JSON shape, bounded sizes, TPM structures that unmarshal exactly and
// describe the kind of object we seal (a keyed-hash object under a policy, fixed to this TPM).
#include "twofold/keystore/tpm.h"

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

namespace twofold::keystore {

inline constexpr std::size_t kMaxBlobFileBytes = 16 * 1024;

struct SealedBlob {
  std::string purpose;  // "secure-volume", "dom0"
  Parent parent = Parent::storage_root;
  bool pin = false;  // PolicyAuthValue in the policy
  PcrSelection pcrs;
  PcrValues pcr_values;  // at sealing time: tells which measurement changed
  Bytes parent_name;     // the TPM2B_NAME of the parent at sealing time
  SealedObject object;
};

struct BlobError {
  std::string message;
};

std::variant<SealedBlob, BlobError> parse_sealed_blob(std::string_view untrusted_text);
std::string serialize_sealed_blob(const SealedBlob& blob);

// Writes atomically and durably (temporary file, fsync, rename, fsync of the directory), so a
// power cut leaves the old blob or the new one, never half of either.
void write_file_durably(const std::string& path, std::string_view contents);

}  // namespace twofold::keystore
