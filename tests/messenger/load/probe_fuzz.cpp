// Arbitrary bytes as a stanza the server delivers to a simulated officer: libstrophe's XML
// parser, then parse_probe. Beyond "no crash, no leak": an accepted probe is within the run's
// shape (sender, seq, time), addressed to the receiving officer, and a unit message only where
// the shape makes one.
#include <algorithm>
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
  // Units of 10, every 3rd message to the unit: both kinds of probe are reachable.
  const RunShape shape{"officer", "messages.test", 50, 20, 16, 1'000'000'000, 10, 3};
  const std::string xml(reinterpret_cast<const char*>(data), size);
  std::unique_ptr<xmpp_ctx_t, decltype(&xmpp_ctx_free)> ctx(xmpp_ctx_new(nullptr, nullptr), &xmpp_ctx_free);
  std::unique_ptr<xmpp_stanza_t, decltype(&xmpp_stanza_release)> stanza(xmpp_stanza_new_from_string(ctx.get(), xml.c_str()),
                                                                         &xmpp_stanza_release);
  constexpr std::uint32_t kReceiver = 7;
  const ParsedProbe parsed = parse_probe(stanza.get(), shape, kReceiver, kNow);
  if (const auto* p = std::get_if<Probe>(&parsed)) {
    if (p->sender >= shape.officers || p->seq >= shape.messages_per_officer || p->receiver != kReceiver ||
        p->group != is_group_seq(shape, p->seq) || p->sent_ns < shape.start_ns || p->sent_ns > kNow)
      std::abort();
    const auto recipients = recipients_of(shape, p->sender, p->seq);
    if (std::find(recipients.begin(), recipients.end(), kReceiver) == recipients.end())
      std::abort();
  }
  return 0;
}
