#include "twofold/messenger/incoming.h"

#include <charconv>
#include <cstring>
#include <string_view>

namespace twofold::messenger {
namespace {

struct Reject {
  std::string reason;
};

std::string_view attr(xmpp_stanza_t* s, const char* name) {
  const char* v = xmpp_stanza_get_attribute(s, name);
  return v ? std::string_view{v} : std::string_view{};
}

bool is(xmpp_stanza_t* s, const char* name, const char* ns) {
  const char* n = xmpp_stanza_get_name(s);
  const char* x = xmpp_stanza_get_ns(s);
  return xmpp_stanza_is_tag(s) && n && std::strcmp(n, name) == 0 && (!ns || (x && std::strcmp(x, ns) == 0));
}

// The first child element named `name` in `ns`, looking at no more than kMaxChildren.
xmpp_stanza_t* child(xmpp_stanza_t* parent, const char* name, const char* ns) {
  std::size_t seen = 0;
  for (auto* c = xmpp_stanza_get_children(parent); c; c = xmpp_stanza_get_next(c)) {
    if (++seen > kMaxChildren) throw Reject{"more than " + std::to_string(kMaxChildren) + " children"};
    if (is(c, name, ns)) return c;
  }
  return nullptr;
}

// The concatenated text children of `element`, bounded.
std::string text_of(xmpp_stanza_t* element, std::size_t max) {
  std::string out;
  std::size_t seen = 0;
  for (auto* c = xmpp_stanza_get_children(element); c; c = xmpp_stanza_get_next(c)) {
    if (++seen > kMaxChildren) throw Reject{"more than " + std::to_string(kMaxChildren) + " children"};
    if (!xmpp_stanza_is_text(c)) continue;
    const char* t = xmpp_stanza_get_text_ptr(c);
    if (!t) continue;
    const std::size_t n = std::strlen(t);
    if (out.size() + n > max) throw Reject{"element text over " + std::to_string(max) + " bytes"};
    out.append(t, n);
  }
  return out;
}

Bytes base64_of(xmpp_stanza_t* element, std::size_t max_decoded, const char* what) {
  auto bytes = base64_decode(text_of(element, kMaxText), max_decoded);
  if (!bytes) throw Reject{std::string(what) + ": not base64 or over " + std::to_string(max_decoded) + " bytes"};
  return *bytes;
}

// Decimal without sign, leading zeros or trailing junk.
std::optional<std::uint32_t> decimal(std::string_view s) {
  if (s.empty() || s.size() > 10 || (s.size() > 1 && s[0] == '0')) return std::nullopt;
  std::uint32_t v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || end != s.data() + s.size()) return std::nullopt;
  return v;
}

std::uint32_t device_id_attr(xmpp_stanza_t* s, const char* name, const char* what) {
  const auto v = decimal(attr(s, name));
  if (!v || *v == 0 || *v > kMaxDeviceId) throw Reject{std::string(what) + ": bad device id"};
  return *v;
}

std::string message_id(std::string_view untrusted, const char* what) {
  if (untrusted.empty() || untrusted.size() > kMaxMessageId) throw Reject{std::string(what) + ": id missing or too long"};
  for (const char c : untrusted) {
    if (c <= 0x20 || c >= 0x7f) throw Reject{std::string(what) + ": id has a non-printable character"};
  }
  return std::string(untrusted);
}

EncryptedChat parse_encrypted(xmpp_stanza_t* message, xmpp_stanza_t* encrypted, Jid from,
                              const Provisioning& p) {
  EncryptedChat chat{std::move(from), {}, 0, {}, {}, std::nullopt, false, false, std::nullopt};
  chat.id = message_id(attr(message, "id"), "message");
  auto* header = child(encrypted, "header", nullptr);
  if (!header) throw Reject{"omemo: no header"};
  chat.sid = device_id_attr(header, "sid", "omemo header sid");
  if (!p.device(chat.from.bare_jid(), chat.sid)) {
    throw Reject{"omemo: device " + std::to_string(chat.sid) + " of " + chat.from.bare() + " is not provisioned"};
  }
  std::size_t keys = 0;
  bool have_iv = false;
  bool have_ours = false;
  std::size_t seen = 0;
  for (auto* c = xmpp_stanza_get_children(header); c; c = xmpp_stanza_get_next(c)) {
    if (++seen > kMaxChildren) throw Reject{"omemo: header has too many children"};
    if (is(c, "key", nullptr)) {
      if (++keys > kMaxKeysPerMessage) throw Reject{"omemo: more than " + std::to_string(kMaxKeysPerMessage) + " keys"};
      const auto rid = device_id_attr(c, "rid", "omemo key rid");
      if (rid != p.device_id) continue;
      if (have_ours) throw Reject{"omemo: two keys for this device"};
      const auto pk = attr(c, "prekey");
      chat.key = OmemoKey{rid, pk == "true" || pk == "1", base64_of(c, kMaxKeyElement, "omemo key")};
      if (chat.key.data.empty()) throw Reject{"omemo: empty key"};
      have_ours = true;
    } else if (is(c, "iv", nullptr)) {
      if (have_iv) throw Reject{"omemo: two ivs"};
      chat.iv = base64_of(c, 16, "omemo iv");
      if (chat.iv.size() != 12 && chat.iv.size() != 16) throw Reject{"omemo: iv is not 12 or 16 bytes"};
      have_iv = true;
    }
  }
  if (!have_iv) throw Reject{"omemo: no iv"};
  if (!have_ours) throw Reject{"omemo: no key for device " + std::to_string(p.device_id)};
  if (auto* payload = child(encrypted, "payload", nullptr)) {
    chat.payload = base64_of(payload, kMaxPayload, "omemo payload");
    if (chat.payload->empty()) throw Reject{"omemo: empty payload"};
  }
  chat.wants_receipt = child(message, "request", kReceiptsNs) != nullptr;
  chat.markable = child(message, "markable", kMarkersNs) != nullptr;
  if (auto* g = child(message, "group", kGroupNs)) {
    const std::string id(attr(g, "id"));
    const auto* group = p.group(id);
    if (!group) throw Reject{"group '" + id.substr(0, kMaxGroupId) + "' is not provisioned"};
    bool member = false;
    for (const auto& m : group->members) member = member || m.same_bare(chat.from);
    if (!member) throw Reject{chat.from.bare() + " is not a member of group " + id};
    chat.group = id;
  }
  return chat;
}

Incoming parse_pep_event(xmpp_stanza_t* event, const Jid& from) {
  auto* items = child(event, "items", nullptr);
  if (!items || attr(items, "node") != kDeviceListNode) return Ignored{"pep event for another node"};
  auto* item = child(items, "item", nullptr);
  DeviceListEvent list{from.bare_jid(), {}};
  if (!item) return list;
  auto* l = child(item, "list", kOmemoNs);
  if (!l) throw Reject{"device list: no list element"};
  std::size_t seen = 0;
  for (auto* d = xmpp_stanza_get_children(l); d; d = xmpp_stanza_get_next(d)) {
    if (++seen > kMaxChildren) throw Reject{"device list: too many children"};
    if (!is(d, "device", nullptr)) continue;
    if (list.devices.size() == kMaxDeviceListEntries) throw Reject{"device list: too many devices"};
    list.devices.push_back(device_id_attr(d, "id", "device list"));
  }
  return list;
}

Incoming parse_message(xmpp_stanza_t* s, const Provisioning& p) {
  const auto type = attr(s, "type");
  if (type == "error") return Ignored{"error message"};
  if (type == "groupchat") throw Reject{"groupchat messages are not used (groups are fan-out)"};
  const auto from_text = attr(s, "from");
  auto from = Jid::parse(from_text);
  if (!from) throw Reject{"message: 'from' is not a JID"};
  // PEP notifications come from the publisher's bare JID (also our own account).
  if (auto* event = child(s, "event", "http://jabber.org/protocol/pubsub#event")) {
    if (!from->same_bare(p.account) && !p.contact(from->bare_jid())) {
      throw Reject{"pep event from unprovisioned " + from->bare()};
    }
    return parse_pep_event(event, *from);
  }
  if (!p.contact(from->bare_jid())) throw Reject{"message from unprovisioned " + from->bare()};
  if (auto* encrypted = child(s, "encrypted", kOmemoNs)) {
    return parse_encrypted(s, encrypted, std::move(*from), p);
  }
  if (auto* r = child(s, "received", kReceiptsNs)) {
    return DeliveryReceipt{std::move(*from), message_id(attr(r, "id"), "receipt")};
  }
  if (auto* d = child(s, "displayed", kMarkersNs)) {
    return DisplayedMarker{std::move(*from), message_id(attr(d, "id"), "displayed marker")};
  }
  if (child(s, "body", nullptr)) throw Reject{"plaintext message from " + from->bare() + " refused"};
  return Ignored{"message without content (chat state)"};
}

}  // namespace

Incoming parse_incoming(xmpp_stanza_t* untrusted, const Provisioning& p) {
  try {
    if (!untrusted || !xmpp_stanza_is_tag(untrusted)) throw Reject{"not an element"};
    if (is(untrusted, "message", nullptr)) return parse_message(untrusted, p);
    if (is(untrusted, "presence", nullptr)) return Ignored{"presence"};
    if (is(untrusted, "iq", nullptr)) return Ignored{"iq"};
    const char* name = xmpp_stanza_get_name(untrusted);
    return Ignored{std::string("stanza ") + std::string(name ? name : "?").substr(0, 32)};
  } catch (const Reject& r) {
    return Rejected{r.reason};
  }
}

std::variant<Bundle, Rejected> parse_bundle_result(xmpp_stanza_t* s, const Jid& owner, std::uint32_t device) {
  try {
    if (!s || !is(s, "iq", nullptr)) throw Reject{"bundle: not an iq"};
    if (attr(s, "type") != "result") throw Reject{"bundle: iq type is not result"};
    auto from = Jid::parse(attr(s, "from"));
    if (!from || !from->same_bare(owner)) throw Reject{"bundle: from is not " + owner.bare()};
    auto* pubsub = child(s, "pubsub", "http://jabber.org/protocol/pubsub");
    auto* items = pubsub ? child(pubsub, "items", nullptr) : nullptr;
    if (!items || attr(items, "node") != kBundleNodePrefix + std::to_string(device)) {
      throw Reject{"bundle: no items for the requested node"};
    }
    auto* item = child(items, "item", nullptr);
    auto* bundle = item ? child(item, "bundle", kOmemoNs) : nullptr;
    if (!bundle) throw Reject{"bundle: no bundle element"};
    Bundle b{owner.bare_jid(), device, 0, {}, {}, {}, {}};
    auto* spk = child(bundle, "signedPreKeyPublic", nullptr);
    auto* sig = child(bundle, "signedPreKeySignature", nullptr);
    auto* ik = child(bundle, "identityKey", nullptr);
    auto* pks = child(bundle, "prekeys", nullptr);
    if (!spk || !sig || !ik || !pks) throw Reject{"bundle: a required element is missing"};
    const auto spk_id = decimal(attr(spk, "signedPreKeyId"));
    if (!spk_id) throw Reject{"bundle: bad signedPreKeyId"};
    b.signed_pre_key_id = *spk_id;
    b.signed_pre_key = base64_of(spk, kIdentityPublicSize, "bundle signed pre key");
    b.signature = base64_of(sig, kSignatureSize, "bundle signature");
    b.identity = base64_of(ik, kIdentityPublicSize, "bundle identity key");
    if (b.signed_pre_key.size() != kIdentityPublicSize || b.identity.size() != kIdentityPublicSize ||
        b.signature.size() != kSignatureSize) {
      throw Reject{"bundle: a key or the signature has the wrong size"};
    }
    std::size_t seen = 0;
    for (auto* k = xmpp_stanza_get_children(pks); k; k = xmpp_stanza_get_next(k)) {
      if (++seen > kMaxChildren) throw Reject{"bundle: too many children"};
      if (!is(k, "preKeyPublic", nullptr)) continue;
      if (b.pre_keys.size() == kMaxBundlePreKeys) throw Reject{"bundle: too many pre keys"};
      const auto id = decimal(attr(k, "preKeyId"));
      if (!id) throw Reject{"bundle: bad preKeyId"};
      auto key = base64_of(k, kIdentityPublicSize, "bundle pre key");
      if (key.size() != kIdentityPublicSize) throw Reject{"bundle: pre key has the wrong size"};
      b.pre_keys.push_back(PreKeyPublic{*id, std::move(key)});
    }
    if (b.pre_keys.empty()) throw Reject{"bundle: no pre keys"};
    return b;
  } catch (const Reject& r) {
    return Rejected{r.reason};
  }
}

std::string describe(const Incoming& value) {
  struct Visitor {
    std::string operator()(const EncryptedChat& c) const {
      return "encrypted message " + c.id + " from " + c.from.bare() + " device " + std::to_string(c.sid);
    }
    std::string operator()(const DeliveryReceipt& r) const { return "receipt " + r.id + " from " + r.from.bare(); }
    std::string operator()(const DisplayedMarker& d) const { return "displayed " + d.id + " from " + d.from.bare(); }
    std::string operator()(const DeviceListEvent& d) const {
      return "device list of " + d.from.bare() + " (" + std::to_string(d.devices.size()) + ")";
    }
    std::string operator()(const Ignored& i) const { return "ignored: " + i.what; }
    std::string operator()(const Rejected& r) const { return "rejected: " + r.reason; }
  };
  return std::visit(Visitor{}, value);
}

}  // namespace twofold::messenger
