// Arbitrary bytes as the sealed-secret file dom0 reads from its storage disk (which anyone
// holding the device can rewrite). The parser must never crash, hang or read out of bounds,
// and whatever it accepts must serialise and parse back to the same TPM structures.
#include "twofold/keystore/sealed_blob.h"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace twofold::keystore;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto parsed = parse_sealed_blob(text);
  if (const auto* blob = std::get_if<SealedBlob>(&parsed)) {
    auto again = parse_sealed_blob(serialize_sealed_blob(*blob));
    const auto* back = std::get_if<SealedBlob>(&again);
    if (back == nullptr || back->object.public_area != blob->object.public_area ||
        back->object.private_area != blob->object.private_area || back->pcrs != blob->pcrs) {
      std::abort();
    }
  }
  return 0;
}
