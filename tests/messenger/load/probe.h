#pragma once
// The load test's message ("probe") and its parser. Every message a simulated officer
// receives comes from the server and is treated as hostile: it is turned into a validated
// Probe or a Rejection with a reason before the ledger counts it.
//
// Wire form (one-to-one, type chat, to the peer's bare JID):
//   <message to='officer7@messages.test' type='chat' id='p3-17'>
//     <body>xxxx…</body>
//     <probe xmlns='urn:twofold:load:0' sender='3' seq='17' sent='123456789'/>
//   </message>
// A unit's channel is fanned out by the sender, as the messenger does it (docs/messaging.md,
// "A unit's channel"): one such message to every other member, with group='unit-<u>' on the
// probe, all carrying the same seq and sent time.
// `sent` is the sender's steady clock in nanoseconds: sender and receiver are the same
// process, so the difference is the server's latency plus the generator's own queueing.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <strophe.h>

namespace twofold::messenger::load {

inline constexpr const char* kProbeNamespace = "urn:twofold:load:0";
inline constexpr const char* kResource = "load";
// Upper bounds on what the CLI accepts; the parser checks against the run's actual values.
inline constexpr std::uint32_t kMaxOfficers = 900;  // libstrophe waits with select(): fds < 1024
inline constexpr std::uint32_t kMaxMessagesPerOfficer = 100000;
inline constexpr std::size_t kMaxBodyBytes = 16384;

// What every officer of the run shares: how JIDs are spelled, how many there are, what a
// valid probe looks like.
struct RunShape {
  std::string prefix = "officer";  // officer i is <prefix><i>@<domain>, i in [0, officers)
  std::string domain = "messages.test";
  std::uint32_t officers = 0;
  std::uint32_t messages_per_officer = 0;
  std::size_t body_bytes = 0;
  std::int64_t start_ns = 0;  // no probe can be older than the run
  // Units of unit_size consecutive officers (0: no groups); every group_every-th message of an
  // officer goes to its unit instead of one peer.
  std::uint32_t unit_size = 0;
  std::uint32_t group_every = 0;
};
inline constexpr std::uint32_t kMaxUnitSize = 50;

std::string officer_bare_jid(const RunShape& shape, std::uint32_t index);
// Where officer `sender`'s message number `seq` goes: even numbers to the next officer (on the
// other node when clients alternate between two nodes), odd ones to the one after (same node).
std::uint32_t peer_of(const RunShape& shape, std::uint32_t sender, std::uint32_t seq);
bool is_group_seq(const RunShape& shape, std::uint32_t seq);
std::uint32_t unit_of(const RunShape& shape, std::uint32_t officer);
std::string unit_id(std::uint32_t unit);
// Who receives message `seq` of `sender`: its peer, or every other member of its unit.
std::vector<std::uint32_t> recipients_of(const RunShape& shape, std::uint32_t sender, std::uint32_t seq);
// Stanzas the whole run delivers when everything arrives.
std::uint64_t planned_deliveries(const RunShape& shape);

struct Probe {
  std::uint32_t sender = 0;
  std::uint32_t receiver = 0;
  std::uint32_t seq = 0;
  std::int64_t sent_ns = 0;
  bool group = false;
};

enum class RejectKind { bounced, malformed, forged, misrouted };
struct Rejection {
  RejectKind kind;
  std::string reason;
};
const char* to_string(RejectKind kind);

using ParsedProbe = std::variant<Probe, Rejection>;

// `receiver` is the officer whose connection delivered the stanza; `now_ns` bounds `sent`.
ParsedProbe parse_probe(xmpp_stanza_t* stanza, const RunShape& shape, std::uint32_t receiver, std::int64_t now_ns);

// Parses a JID of the run ("<prefix><digits>@<domain>" with an optional "/resource") into the
// officer's index; nullopt for anything else.
std::optional<std::uint32_t> officer_index(const RunShape& shape, std::string_view jid);

// A decimal number with no sign, no spaces, nothing after it, within [0, max].
bool parse_decimal(std::string_view text, std::uint64_t max, std::uint64_t& out);

}  // namespace twofold::messenger::load
