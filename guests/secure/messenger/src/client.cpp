#include "twofold/messenger/client.h"

#include <chrono>
#include <openssl/rand.h>
#include <spdlog/spdlog.h>
#include <stdexcept>

#include "twofold/messenger/outgoing.h"

namespace twofold::messenger {
namespace {

void strophe_log(void*, xmpp_log_level_t level, const char* area, const char* msg) {
  // Only warnings and errors: libstrophe's debug level prints whole stanzas.
  if (level >= XMPP_LEVEL_WARN) spdlog::warn("messenger: libstrophe {}: {}", area, msg);
}

std::int64_t now_unix() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

bool acceptable_text(const std::string& text) {
  if (text.empty() || text.size() > kMaxMessageText) return false;
  for (const char c : text) {
    if (static_cast<unsigned char>(c) < 0x20 && c != '\n') return false;
  }
  return true;
}

std::string_view attr(xmpp_stanza_t* s, const char* name) {
  const char* v = xmpp_stanza_get_attribute(s, name);
  return v ? std::string_view{v} : std::string_view{};
}

}  // namespace

Client::Client(const Provisioning& provisioning, const std::filesystem::path& state_dir, ClientEvents events)
    : provisioning_(provisioning),
      omemo_(provisioning_, (std::filesystem::create_directories(state_dir), state_dir / "omemo")),
      history_(state_dir / "history.jsonl"),
      replay_(state_dir / "seen-ids"),
      events_(std::move(events)),
      log_{strophe_log, nullptr} {
  // No xmpp_initialize(): with OpenSSL 3 it only initialises OpenSSL, which OpenSSL does by
  // itself, and it is process-wide state two clients in one test would share.
  ctx_.reset(xmpp_ctx_new(nullptr, &log_));
  if (!ctx_) throw std::runtime_error("xmpp_ctx_new failed");
  conn_.reset(xmpp_conn_new(ctx_.get()));
  if (!conn_) throw std::runtime_error("xmpp_conn_new failed");
  xmpp_conn_set_flags(conn_.get(), XMPP_CONN_FLAG_MANDATORY_TLS);
  xmpp_conn_set_cafile(conn_.get(), provisioning_.ca_file.c_str());
  xmpp_conn_set_certfail_handler(conn_.get(), on_certificate_failure);
  const auto jid = provisioning_.account.bare() + "/phone-" + std::to_string(provisioning_.device_id);
  xmpp_conn_set_jid(conn_.get(), jid.c_str());
  xmpp_conn_set_pass(conn_.get(), provisioning_.password.c_str());
}

Client::~Client() {
  if (conn_) {
    xmpp_handler_delete(conn_.get(), on_message);
  }
}

int Client::on_certificate_failure(const xmpp_tlscert_t* cert, const char* error) {
  const char* subject = cert ? xmpp_tlscert_get_string(cert, XMPP_CERT_SUBJECT) : nullptr;
  spdlog::error("messenger: rejected server certificate ({}): {}", subject ? subject : "?", error ? error : "?");
  return 0;  // never accept a certificate the organisation's CA did not sign
}

void Client::connect() {
  if (connecting_ || connected_) return;
  failed_ = false;
  // A peer whose bundle was missing or refused on the last stream gets another chance.
  bundle_failed_.clear();
  connecting_ = true;
  const int rc = xmpp_connect_client(conn_.get(), provisioning_.server_host.c_str(), provisioning_.server_port,
                                     on_connection, this);
  if (rc != XMPP_EOK) {
    failed_ = true;
    connecting_ = false;
    spdlog::error("messenger: cannot start connecting to {}:{}", provisioning_.server_host, provisioning_.server_port);
  }
}

void Client::disconnect() {
  if (connected_) xmpp_disconnect(conn_.get());
  for (int i = 0; i < 100 && connected_; ++i) xmpp_run_once(ctx_.get(), 10);
}

void Client::run_once(std::chrono::milliseconds timeout) {
  xmpp_run_once(ctx_.get(), static_cast<unsigned long>(timeout.count()));
}

void Client::on_connection(xmpp_conn_t* conn, xmpp_conn_event_t status, int error, xmpp_stream_error_t*, void* self_ptr) {
  auto& self = *static_cast<Client*>(self_ptr);
  if (status == XMPP_CONN_CONNECT) {
    self.connected_ = true;
    spdlog::info("messenger: logged in as {} (device {})", self.provisioning_.account.bare(), self.provisioning_.device_id);
    xmpp_handler_add(conn, on_message, nullptr, "message", nullptr, self_ptr);
    self.publish();
    return;
  }
  if (status == XMPP_CONN_RAW_CONNECT) return;
  const bool was_online = self.online_;
  self.connected_ = false;
  self.connecting_ = false;
  self.online_ = false;
  if (status == XMPP_CONN_FAIL || !was_online) self.failed_ = true;
  xmpp_handler_delete(conn, on_message);
  // Answers to requests made on this stream will never come: ask again after reconnecting.
  for (const auto& [iq_id, _] : self.bundle_requests_) xmpp_id_handler_delete(conn, on_bundle_result, iq_id.c_str());
  self.bundle_requests_.clear();
  spdlog::warn("messenger: disconnected (error {})", error);
  if (self.events_.connection) self.events_.connection(false);
}

void Client::send_stanza(const StanzaPtr& s) { xmpp_send(conn_.get(), s.get()); }

std::string Client::fresh_id() {
  std::uint8_t raw[12];
  if (RAND_bytes(raw, sizeof raw) != 1) throw std::runtime_error("RAND_bytes failed");
  return hex_encode(raw);
}

void Client::publish() {
  publishes_outstanding_ = 2;
  const auto list_id = fresh_id();
  xmpp_id_handler_add(conn_.get(), on_publish_result, list_id.c_str(), this);
  send_stanza(build_device_list_publish(ctx_.get(), list_id, provisioning_.device_id));
  const auto bundle_id = fresh_id();
  xmpp_id_handler_add(conn_.get(), on_publish_result, bundle_id.c_str(), this);
  send_stanza(build_bundle_publish(ctx_.get(), bundle_id, omemo_.bundle()));
}

int Client::on_publish_result(xmpp_conn_t*, xmpp_stanza_t* stanza, void* self_ptr) {
  auto& self = *static_cast<Client*>(self_ptr);
  if (attr(stanza, "type") != "result") {
    spdlog::error("messenger: the server refused our OMEMO publication (iq type '{}')",
                  std::string(attr(stanza, "type")).substr(0, 16));
    self.failed_ = true;
    // Not online without our keys published: close, so the owner's loop tries again later.
    xmpp_disconnect(self.conn_.get());
    return 0;
  }
  if (--self.publishes_outstanding_ == 0 && !self.online_) {
    // Presence last: prosody's offline store is flushed on initial presence, and by now our
    // bundle is there for anyone who replies.
    StanzaPtr presence{xmpp_presence_new(self.ctx_.get())};
    self.send_stanza(presence);
    self.online_ = true;
    self.connecting_ = false;
    spdlog::info("messenger: online");
    if (self.events_.connection) self.events_.connection(true);
    self.flush_pending();
  }
  return 0;  // one-shot
}

int Client::on_message(xmpp_conn_t*, xmpp_stanza_t* stanza, void* self_ptr) {
  auto& self = *static_cast<Client*>(self_ptr);
  // Any failure in handling one stanza is that stanza's, never the client's.
  try {
    self.handle(parse_incoming(stanza, self.provisioning_));
  } catch (const std::exception& e) {
    self.reject(std::string("internal error on a stanza: ") + e.what());
  }
  return 1;
}

void Client::reject(const std::string& reason) {
  ++counters_.rejected;
  spdlog::warn("messenger: rejected {}", reason);
  if (events_.rejected) events_.rejected(reason);
}

void Client::handle(const Incoming& value) {
  if (const auto* r = std::get_if<Rejected>(&value)) return reject(r->reason);
  if (const auto* chat = std::get_if<EncryptedChat>(&value)) return handle_chat(*chat);
  if (const auto* receipt = std::get_if<DeliveryReceipt>(&value)) {
    if (history_.mark(receipt->from.bare(), receipt->id, Delivery::delivered) && events_.delivery) {
      events_.delivery(receipt->from.bare(), receipt->id, Delivery::delivered);
    }
    return;
  }
  if (const auto* shown = std::get_if<DisplayedMarker>(&value)) {
    if (history_.mark(shown->from.bare(), shown->id, Delivery::displayed) && events_.delivery) {
      events_.delivery(shown->from.bare(), shown->id, Delivery::displayed);
    }
    return;
  }
  // Device lists are read but never widen trust: the provisioning file names the devices.
}

void Client::handle_chat(const EncryptedChat& chat) {
  const auto peer = chat.from.bare();
  if (replay_.seen(peer, chat.id)) return reject("duplicate message id " + chat.id + " from " + peer);
  auto result = omemo_.decrypt(chat);
  if (const auto* r = std::get_if<Rejected>(&result)) return reject(r->reason);
  replay_.remember(peer, chat.id);
  if (omemo_.take_bundle_changed() && online_) publish();
  const auto& decrypted = std::get<Decrypted>(result);
  if (!decrypted.text) return;  // key transport: the ratchet moved, nothing to show
  if (!acceptable_text(*decrypted.text)) return reject("message text from " + peer + " is empty, too long or has control characters");
  ++counters_.received;
  HistoryEntry e;
  e.conversation = chat.group ? "group:" + *chat.group : peer;
  e.sender = peer;
  e.id = chat.id;
  e.text = *decrypted.text;
  e.direction = Direction::incoming;
  e.unix_time = now_unix();
  history_.add(e);
  if (chat.wants_receipt) send_stanza(build_receipt(ctx_.get(), chat.from.bare_jid(), chat.id));
  if (events_.message) events_.message(e);
}

std::optional<std::string> Client::enqueue(Pending p) {
  if (pending_.size() >= kMaxPendingMessages) {
    spdlog::error("messenger: {} messages already waiting; refused", kMaxPendingMessages);
    return std::nullopt;
  }
  const auto id = p.id;
  pending_.push_back(std::move(p));
  if (online_) flush_pending();
  return id;
}

std::optional<std::string> Client::send(const Jid& peer, const std::string& text) {
  if (!acceptable_text(text) || !provisioning_.contact(peer)) return std::nullopt;
  Pending p{fresh_id(), peer.bare_jid(), std::nullopt, text};
  history_.add(HistoryEntry{peer.bare(), provisioning_.account.bare(), p.id, text, Direction::outgoing,
                            Delivery::sent, now_unix()});
  return enqueue(std::move(p));
}

std::optional<std::string> Client::send_group(const std::string& group_id, const std::string& text) {
  const auto* group = provisioning_.group(group_id);
  if (!group || !acceptable_text(text)) return std::nullopt;
  const auto id = fresh_id();
  history_.add(HistoryEntry{"group:" + group_id, provisioning_.account.bare(), id, text, Direction::outgoing,
                            Delivery::sent, now_unix()});
  // Fan-out: one OMEMO message per member, all with the same id (docs/messaging.md).
  for (const auto& member : group->members) {
    if (!enqueue(Pending{id, member, group_id, text})) return std::nullopt;
  }
  return id;
}

void Client::mark_displayed(const Jid& peer, const std::string& id) {
  if (online_) send_stanza(build_displayed(ctx_.get(), peer.bare_jid(), id));
}

void Client::request_bundle(const Jid& owner, std::uint32_t device) {
  for (const auto& [_, req] : bundle_requests_) {
    if (req.first == owner && req.second == device) return;  // already asked
  }
  const auto id = fresh_id();
  bundle_requests_.emplace(id, std::make_pair(owner, device));
  xmpp_id_handler_add(conn_.get(), on_bundle_result, id.c_str(), this);
  send_stanza(build_bundle_request(ctx_.get(), id, owner, device));
}

int Client::on_bundle_result(xmpp_conn_t*, xmpp_stanza_t* stanza, void* self_ptr) {
  auto& self = *static_cast<Client*>(self_ptr);
  const auto it = self.bundle_requests_.find(std::string(attr(stanza, "id")));
  if (it == self.bundle_requests_.end()) return 0;
  const auto [owner, device] = it->second;
  self.bundle_requests_.erase(it);
  auto parsed = parse_bundle_result(stanza, owner, device);
  std::optional<std::string> refused;
  if (const auto* r = std::get_if<Rejected>(&parsed)) {
    refused = r->reason;
  } else {
    refused = self.omemo_.build_session(std::get<Bundle>(parsed));
  }
  if (refused) {
    self.reject(*refused);
    self.bundle_failed_.insert({owner, device});
  }
  self.flush_pending();
  return 0;
}

bool Client::try_send(const Pending& p) {
  const auto* contact = provisioning_.contact(p.to);
  bool waiting = false;
  for (const auto& d : contact->devices) {
    if (omemo_.has_session(contact->jid, d.id) || bundle_failed_.contains({contact->jid, d.id})) continue;
    request_bundle(contact->jid, d.id);
    waiting = true;
  }
  if (waiting) return false;
  auto env = omemo_.encrypt({p.to}, p.text);
  if (env.keys.empty()) {
    reject("no usable device for " + p.to.bare() + ": message " + p.id + " not sent");
    return true;
  }
  send_stanza(build_encrypted_message(ctx_.get(), p.to, p.id, env, p.group));
  ++counters_.sent;
  return true;
}

void Client::flush_pending() {
  if (!online_) return;
  std::vector<Pending> still;
  for (auto& p : pending_) {
    if (!try_send(p)) still.push_back(std::move(p));
  }
  pending_ = std::move(still);
}

}  // namespace twofold::messenger
