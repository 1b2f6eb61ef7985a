// Arbitrary bytes as xenbus frames to the messenger's in-front watch (twofold/messenger/in_front.h),
// in chunks the input chooses. Beyond "no crash, no leak": an answer is always whole frames of at
// most one read, and once broken the state stays as it was.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string_view>

#include "twofold/messenger/in_front.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  twofold::messenger::InFrontState s;
  (void)s.start();
  std::string_view rest(reinterpret_cast<const char*>(data), size);
  while (!rest.empty()) {
    const std::size_t n = std::min<std::size_t>(rest.size(), static_cast<unsigned char>(rest[0]) % 64 + 1);
    const bool was_broken = s.broken();
    const bool was_front = s.in_front();
    const auto out = s.feed(rest.substr(0, n));
    rest.remove_prefix(n);
    if (was_broken && (s.in_front() != was_front || !out.empty())) std::abort();
    // At most one read request (16-byte header + "twofold/foreground\0") per feed.
    if (!out.empty() && out.size() != 16 + 19) std::abort();
  }
  return 0;
}
