// Feeds arbitrary bytes to the audit verifier as one or more log files. The verifier must
// never crash, hang or read out of bounds, whatever an attacker writes into the log.
// Input: byte 0 selects options; the rest is split on '\f' into consecutive files.
// With flag bit 0, checkpoints are verified against a fixed test key, so the seeds
// written with it reach the signature path.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "twofold/audit/keys.h"
#include "twofold/audit/verifier.h"

namespace {

// Public half of a test-only key whose private half is in README.md (it signs
// nothing real); the seeds' checkpoints are signed with it.
constexpr std::string_view kFuzzPublicKey =
    "-----BEGIN PUBLIC KEY-----\n"
    "MCowBQYDK2VwAyEALR7IVRO8x2ooQVgJdsY6d/l4SmUchs7fnMF+J0FvPgM=\n"
    "-----END PUBLIC KEY-----\n";

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace twofold::audit;
  if (size == 0) return 0;
  const std::uint8_t flags = data[0];
  const std::string_view bytes(reinterpret_cast<const char*>(data + 1), size - 1);

  std::vector<std::pair<std::string, std::string>> files;
  std::size_t start = 0;
  while (true) {
    const std::size_t end = bytes.find('\f', start);
    files.emplace_back("audit-" + std::to_string(files.size()) + ".log",
                       std::string(bytes.substr(start, end == std::string_view::npos ? end : end - start)));
    if (end == std::string_view::npos) break;
    start = end + 1;
  }

  VerifyOptions options;
  if ((flags & 1) != 0) {
    options.public_key = VerifyKey::from_pem(kFuzzPublicKey);
  }
  options.allow_missing_head = (flags & 2) != 0;
  options.require_sealed = (flags & 4) != 0;
  if ((flags & 8) != 0) options.expect_sequence = flags >> 4;

  const VerifyReport report = verify_buffers(files, options);
  // Invariants that hold for every input.
  if (report.intact() && report.last_sealed_sequence > report.last_sequence) __builtin_trap();
  if (report.intact() && report.unsealed_records != report.last_sequence - report.last_sealed_sequence) {
    __builtin_trap();
  }
  return 0;
}
