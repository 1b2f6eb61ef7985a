#pragma once
// Builders for the stanzas this device sends. Every value put in comes from our own
// validated state (provisioning, OmemoDevice), never copied through from the network.
#include <cstdint>
#include <optional>
#include <string>

#include <strophe.h>

#include "twofold/messenger/incoming.h"
#include "twofold/messenger/omemo_device.h"

namespace twofold::messenger {

// Shown by clients that cannot decrypt; never the message text.
inline constexpr const char* kFallbackBody = "[This message is OMEMO encrypted]";

StanzaPtr build_encrypted_message(xmpp_ctx_t* ctx, const Jid& to, const std::string& id,
                                  const EncryptedEnvelope& env, const std::optional<std::string>& group);
StanzaPtr build_receipt(xmpp_ctx_t* ctx, const Jid& to, const std::string& id);
StanzaPtr build_displayed(xmpp_ctx_t* ctx, const Jid& to, const std::string& id);
StanzaPtr build_device_list_publish(xmpp_ctx_t* ctx, const std::string& iq_id, std::uint32_t device);
StanzaPtr build_bundle_publish(xmpp_ctx_t* ctx, const std::string& iq_id, const OwnBundle& bundle);
StanzaPtr build_bundle_request(xmpp_ctx_t* ctx, const std::string& iq_id, const Jid& owner, std::uint32_t device);

}  // namespace twofold::messenger
