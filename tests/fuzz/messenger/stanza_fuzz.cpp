// Arbitrary bytes as a stanza from the server. Beyond "no crash, no leak", it checks the
// invariants the client relies on: an accepted OMEMO message comes from a provisioned device
// and carries a key for this device with an IV of an allowed size; bounded sizes hold.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "twofold/messenger/incoming.h"

using namespace twofold::messenger;

namespace {

// Fixed keys (33 bytes, 0x05 first): the parser only checks sizes, never the pair.
constexpr const char* kProvisioning = R"(
[account]
jid = "alice@messages.test"
password = "pw"
device_id = 1001
identity_public = "BQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEB"
identity_private = "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE="
[server]
host = "127.0.0.1"
port = 5222
domain = "messages.test"
ca = "ca.pem"
[[contact]]
jid = "bob@messages.test"
devices = [ { id = 2001, identity = "BQICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIC" } ]
[[group]]
id = "unit-7"
members = ["bob@messages.test"]
)";

const Provisioning& provisioning() {
  static const Provisioning p = std::get<Provisioning>(parse_provisioning(kProvisioning, "/nonexistent"));
  return p;
}

struct CtxFree {
  void operator()(xmpp_ctx_t* c) const { xmpp_ctx_free(c); }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto& p = provisioning();
  std::unique_ptr<xmpp_ctx_t, CtxFree> ctx{xmpp_ctx_new(nullptr, nullptr)};
  const std::string xml(reinterpret_cast<const char*>(data), size);  // NUL-terminated copy
  StanzaPtr stanza{xmpp_stanza_new_from_string(ctx.get(), xml.c_str())};
  if (!stanza) return 0;
  const Incoming v = parse_incoming(stanza.get(), p);
  if (const auto* chat = std::get_if<EncryptedChat>(&v)) {
    if (!p.device(chat->from.bare_jid(), chat->sid)) std::abort();
    if (chat->key.rid != p.device_id || chat->key.data.empty() || chat->key.data.size() > kMaxKeyElement) std::abort();
    if (chat->iv.size() != 12 && chat->iv.size() != 16) std::abort();
    if (chat->payload && (chat->payload->empty() || chat->payload->size() > kMaxPayload)) std::abort();
    if (chat->id.empty() || chat->id.size() > kMaxMessageId) std::abort();
    if (chat->group && !p.group(*chat->group)) std::abort();
  }
  if (const auto* list = std::get_if<DeviceListEvent>(&v); list && list->devices.size() > kMaxDeviceListEntries) std::abort();
  if (describe(v).empty()) std::abort();
  const auto bundle = parse_bundle_result(stanza.get(), *Jid::parse("bob@messages.test"), 2001);
  if (const auto* b = std::get_if<Bundle>(&bundle)) {
    if (b->identity.size() != kIdentityPublicSize || b->signature.size() != kSignatureSize) std::abort();
    if (b->pre_keys.empty() || b->pre_keys.size() > kMaxBundlePreKeys) std::abort();
  }
  return 0;
}
