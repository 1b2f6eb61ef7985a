#include "twofold/messenger/outgoing.h"

#include <stdexcept>

namespace twofold::messenger {
namespace {

StanzaPtr element(xmpp_ctx_t* ctx, const char* name, const char* ns = nullptr) {
  StanzaPtr s{xmpp_stanza_new(ctx)};
  if (!s) throw std::bad_alloc();
  xmpp_stanza_set_name(s.get(), name);
  if (ns) xmpp_stanza_set_ns(s.get(), ns);
  return s;
}

// Adds `child` to `parent` (libstrophe takes its own reference) and returns it for nesting.
xmpp_stanza_t* add(xmpp_stanza_t* parent, StanzaPtr child) {
  xmpp_stanza_t* raw = child.get();
  xmpp_stanza_add_child(parent, raw);
  return raw;  // still alive when `child` releases its reference: the parent holds one
}

xmpp_stanza_t* add_text_element(xmpp_ctx_t* ctx, xmpp_stanza_t* parent, const char* name, const std::string& text) {
  auto* e = add(parent, element(ctx, name));
  StanzaPtr t{xmpp_stanza_new(ctx)};
  xmpp_stanza_set_text(t.get(), text.c_str());
  add(e, std::move(t));
  return e;
}

StanzaPtr message_to(xmpp_ctx_t* ctx, const Jid& to, const std::string& id) {
  auto m = element(ctx, "message");
  xmpp_stanza_set_type(m.get(), "chat");
  xmpp_stanza_set_to(m.get(), to.bare().c_str());
  xmpp_stanza_set_id(m.get(), id.c_str());
  return m;
}

StanzaPtr pubsub_publish(xmpp_ctx_t* ctx, const std::string& iq_id, const std::string& node,
                         xmpp_stanza_t** item_out) {
  auto iq = element(ctx, "iq");
  xmpp_stanza_set_type(iq.get(), "set");
  xmpp_stanza_set_id(iq.get(), iq_id.c_str());
  auto* pubsub = add(iq.get(), element(ctx, "pubsub", "http://jabber.org/protocol/pubsub"));
  auto* publish = add(pubsub, element(ctx, "publish"));
  xmpp_stanza_set_attribute(publish, "node", node.c_str());
  *item_out = add(publish, element(ctx, "item"));
  // Bundles and device lists must be readable by peers without a presence subscription
  // (accounts are provisioned, rosters are not): access model "open".
  auto* options = add(pubsub, element(ctx, "publish-options"));
  auto* x = add(options, element(ctx, "x", "jabber:x:data"));
  xmpp_stanza_set_type(x, "submit");
  auto* form_type = add(x, element(ctx, "field"));
  xmpp_stanza_set_attribute(form_type, "var", "FORM_TYPE");
  xmpp_stanza_set_type(form_type, "hidden");
  add_text_element(ctx, form_type, "value", "http://jabber.org/protocol/pubsub#publish-options");
  auto* access = add(x, element(ctx, "field"));
  xmpp_stanza_set_attribute(access, "var", "pubsub#access_model");
  add_text_element(ctx, access, "value", "open");
  return iq;
}

// A receipt or marker naming message `id`: its own id is `id` + suffix, and the server keeps it
// for an offline sender.
StanzaPtr build_ack(xmpp_ctx_t* ctx, const Jid& to, const std::string& id, const char* suffix, const char* name,
                    const char* ns) {
  auto m = message_to(ctx, to, id + suffix);
  auto* ack = add(m.get(), element(ctx, name, ns));
  xmpp_stanza_set_id(ack, id.c_str());
  add(m.get(), element(ctx, "store", "urn:xmpp:hints"));
  return m;
}

}  // namespace

StanzaPtr build_encrypted_message(xmpp_ctx_t* ctx, const Jid& to, const std::string& id,
                                  const EncryptedEnvelope& env, const std::optional<std::string>& group) {
  auto m = message_to(ctx, to, id);
  auto* encrypted = add(m.get(), element(ctx, "encrypted", kOmemoNs));
  auto* header = add(encrypted, element(ctx, "header"));
  xmpp_stanza_set_attribute(header, "sid", std::to_string(env.sid).c_str());
  for (const auto& k : env.keys) {
    auto* key = add_text_element(ctx, header, "key", base64_encode(k.data));
    xmpp_stanza_set_attribute(key, "rid", std::to_string(k.rid).c_str());
    if (k.prekey) xmpp_stanza_set_attribute(key, "prekey", "true");
  }
  add_text_element(ctx, header, "iv", base64_encode(env.iv));
  add_text_element(ctx, encrypted, "payload", base64_encode(env.payload));
  if (group) {
    auto* g = add(m.get(), element(ctx, "group", kGroupNs));
    xmpp_stanza_set_attribute(g, "id", group->c_str());
  }
  add(m.get(), element(ctx, "request", kReceiptsNs));
  add(m.get(), element(ctx, "markable", kMarkersNs));
  add(m.get(), element(ctx, "store", "urn:xmpp:hints"));
  auto* eme = add(m.get(), element(ctx, "encryption", "urn:xmpp:eme:0"));
  xmpp_stanza_set_attribute(eme, "namespace", kOmemoNs);
  add_text_element(ctx, m.get(), "body", kFallbackBody);
  return m;
}

StanzaPtr build_receipt(xmpp_ctx_t* ctx, const Jid& to, const std::string& id) {
  return build_ack(ctx, to, id, "-r", "received", kReceiptsNs);
}

StanzaPtr build_displayed(xmpp_ctx_t* ctx, const Jid& to, const std::string& id) {
  return build_ack(ctx, to, id, "-d", "displayed", kMarkersNs);
}

StanzaPtr build_device_list_publish(xmpp_ctx_t* ctx, const std::string& iq_id, std::uint32_t device) {
  xmpp_stanza_t* item = nullptr;
  auto iq = pubsub_publish(ctx, iq_id, kDeviceListNode, &item);
  xmpp_stanza_set_id(item, "current");
  auto* list = add(item, element(ctx, "list", kOmemoNs));
  auto* d = add(list, element(ctx, "device"));
  xmpp_stanza_set_id(d, std::to_string(device).c_str());
  return iq;
}

StanzaPtr build_bundle_publish(xmpp_ctx_t* ctx, const std::string& iq_id, const OwnBundle& b) {
  xmpp_stanza_t* item = nullptr;
  auto iq = pubsub_publish(ctx, iq_id, kBundleNodePrefix + std::to_string(b.device), &item);
  xmpp_stanza_set_id(item, "current");
  auto* bundle = add(item, element(ctx, "bundle", kOmemoNs));
  auto* spk = add_text_element(ctx, bundle, "signedPreKeyPublic", base64_encode(b.signed_pre_key));
  xmpp_stanza_set_attribute(spk, "signedPreKeyId", std::to_string(b.signed_pre_key_id).c_str());
  add_text_element(ctx, bundle, "signedPreKeySignature", base64_encode(b.signature));
  add_text_element(ctx, bundle, "identityKey", base64_encode(b.identity));
  auto* prekeys = add(bundle, element(ctx, "prekeys"));
  for (const auto& pk : b.pre_keys) {
    auto* e = add_text_element(ctx, prekeys, "preKeyPublic", base64_encode(pk.key));
    xmpp_stanza_set_attribute(e, "preKeyId", std::to_string(pk.id).c_str());
  }
  return iq;
}

StanzaPtr build_bundle_request(xmpp_ctx_t* ctx, const std::string& iq_id, const Jid& owner, std::uint32_t device) {
  auto iq = element(ctx, "iq");
  xmpp_stanza_set_type(iq.get(), "get");
  xmpp_stanza_set_id(iq.get(), iq_id.c_str());
  xmpp_stanza_set_to(iq.get(), owner.bare().c_str());
  auto* pubsub = add(iq.get(), element(ctx, "pubsub", "http://jabber.org/protocol/pubsub"));
  auto* items = add(pubsub, element(ctx, "items"));
  xmpp_stanza_set_attribute(items, "node", (kBundleNodePrefix + std::to_string(device)).c_str());
  xmpp_stanza_set_attribute(items, "max_items", "1");
  return iq;
}

}  // namespace twofold::messenger
