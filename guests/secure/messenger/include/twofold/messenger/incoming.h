#pragma once
// Everything that arrives from the network becomes one of these validated values before the
// client acts on it (docs/messaging.md, "Hostile input"). The server and every peer are
// assumed hostile: sizes are bounded, senders must be provisioned, OMEMO elements must be
// well formed and address this device. The parser is pure (no state): replays are caught
// by ReplayGuard, ratchet replays by libomemo-c.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include <strophe.h>

#include "twofold/messenger/bytes.h"
#include "twofold/messenger/jid.h"
#include "twofold/messenger/provisioning.h"

namespace twofold::messenger {

inline constexpr const char* kOmemoNs = "eu.siacs.conversations.axolotl";
inline constexpr const char* kDeviceListNode = "eu.siacs.conversations.axolotl.devicelist";
inline constexpr const char* kBundleNodePrefix = "eu.siacs.conversations.axolotl.bundles:";
inline constexpr const char* kGroupNs = "urn:twofold:messenger:group";
inline constexpr const char* kReceiptsNs = "urn:xmpp:receipts";
inline constexpr const char* kMarkersNs = "urn:xmpp:chat-markers:0";

inline constexpr std::size_t kMaxPayload = 64 * 1024;      // ciphertext of one message body
inline constexpr std::size_t kMaxKeysPerMessage = 64;      // one per recipient device
inline constexpr std::size_t kMaxKeyElement = 1024;        // a PreKeySignalMessage is ~250 bytes
inline constexpr std::size_t kMaxMessageId = 128;
inline constexpr std::size_t kMaxDeviceListEntries = 64;
inline constexpr std::size_t kMaxBundlePreKeys = 200;
inline constexpr std::size_t kSignatureSize = 64;
inline constexpr std::size_t kMaxText = 4 * kMaxPayload;  // base64 text of any one element
inline constexpr std::size_t kMaxChildren = 256;          // children of any one element we walk

struct OmemoKey {
  std::uint32_t rid = 0;
  bool prekey = false;
  Bytes data;
};

// An OMEMO message addressed to this device: only the key element for our device id is kept.
struct EncryptedChat {
  Jid from;  // full JID as the server stamped it
  std::string id;
  std::uint32_t sid = 0;  // sender's device id, provisioned for `from`
  Bytes iv;               // 12 (current clients) or 16 bytes (older profanity)
  OmemoKey key;
  std::optional<Bytes> payload;  // absent: a key-transport message (ratchet maintenance)
  bool wants_receipt = false;
  bool markable = false;
  std::optional<std::string> group;  // a provisioned group the sender is a member of
};

struct DeliveryReceipt {
  Jid from;
  std::string id;
};

struct DisplayedMarker {
  Jid from;
  std::string id;
};

struct DeviceListEvent {
  Jid from;
  std::vector<std::uint32_t> devices;
};

// Well formed but nothing for the messenger (presence, a chat-state, a server notice).
struct Ignored {
  std::string what;
};

struct Rejected {
  std::string reason;
};

using Incoming = std::variant<EncryptedChat, DeliveryReceipt, DisplayedMarker, DeviceListEvent,
                              Ignored, Rejected>;

Incoming parse_incoming(xmpp_stanza_t* untrusted, const Provisioning& provisioning);

struct PreKeyPublic {
  std::uint32_t id = 0;
  Bytes key;
};

struct Bundle {
  Jid owner;
  std::uint32_t device = 0;
  std::uint32_t signed_pre_key_id = 0;
  Bytes signed_pre_key;
  Bytes signature;
  Bytes identity;
  std::vector<PreKeyPublic> pre_keys;
};

// The result of fetching `owner`'s bundle for `device` (an iq of type result).
std::variant<Bundle, Rejected> parse_bundle_result(xmpp_stanza_t* untrusted, const Jid& owner,
                                                   std::uint32_t device);

// Parses `xml` with libstrophe's own parser (for tests and the fuzz target). The stanza is
// released with xmpp_stanza_release.
struct StanzaRelease {
  void operator()(xmpp_stanza_t* s) const { xmpp_stanza_release(s); }
};
using StanzaPtr = std::unique_ptr<xmpp_stanza_t, StanzaRelease>;

std::string describe(const Incoming& value);

}  // namespace twofold::messenger
