// Arbitrary bytes as a stanza the server delivers to a simulated officer: libstrophe's XML
// parser, then parse_probe. Beyond "no crash, no leak": an accepted probe is within the run's
// shape (sender, seq, time) and addressed to the receiving officer.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <variant>

#include "probe.h"

using namespace twofold::messenger::load;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  constexpr std::int64_t kNow = 9'000'000'000;
  const RunShape shape{"officer", "messages.test", 50, 20, 16, 1'000'000'000};
  const std::string xml(reinterpret_cast<const char*>(data), size);
  std::unique_ptr<xmpp_ctx_t, decltype(&xmpp_ctx_free)> ctx(xmpp_ctx_new(nullptr, nullptr), &xmpp_ctx_free);
  std::unique_ptr<xmpp_stanza_t, decltype(&xmpp_stanza_release)> stanza(xmpp_stanza_new_from_string(ctx.get(), xml.c_str()),
                                                                         &xmpp_stanza_release);
  constexpr std::uint32_t kReceiver = 7;
  const ParsedProbe parsed = parse_probe(stanza.get(), shape, kReceiver, kNow);
  if (const auto* p = std::get_if<Probe>(&parsed)) {
    if (p->sender >= shape.officers || p->seq >= shape.messages_per_officer || p->receiver != kReceiver ||
        peer_of(shape, p->sender, p->seq) != kReceiver || p->sent_ns < shape.start_ns || p->sent_ns > kNow)
      std::abort();
  }
  return 0;
}
