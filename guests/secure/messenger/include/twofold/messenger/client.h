#pragma once
// The messenger's XMPP side: one libstrophe context and connection, driven by run_once() from
// the owner's loop (the program's UI loop, or a test pumping two clients). TLS is mandatory
// and must chain to the organisation's CA; login is SASL over it. On connect the device
// publishes its OMEMO device list and bundle (PEP, access model open) and sends presence,
// which is when prosody hands over what it stored while the device was off.
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <strophe.h>

#include "twofold/messenger/history.h"
#include "twofold/messenger/incoming.h"
#include "twofold/messenger/omemo_device.h"
#include "twofold/messenger/provisioning.h"
#include "twofold/messenger/replay_guard.h"

namespace twofold::messenger {

inline constexpr std::size_t kMaxPendingMessages = 256;  // queued while bundles are fetched
inline constexpr std::size_t kMaxMessageText = 4096;     // what an officer may type in one message

struct ClientEvents {
  std::function<void(const HistoryEntry&)> message;  // a decrypted incoming message
  std::function<void(const std::string& peer, const std::string& id, Delivery)> delivery;
  std::function<void(const std::string& reason)> rejected;
  std::function<void(bool online)> connection;
};

struct ClientCounters {
  std::size_t received = 0;
  std::size_t sent = 0;
  std::size_t rejected = 0;
};

// The process must ignore SIGPIPE (libstrophe's send() does not use MSG_NOSIGNAL): the
// program does in main(), the tests in their fixtures.
class Client {
 public:
  Client(const Provisioning& provisioning, const std::filesystem::path& state_dir, ClientEvents events);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  void connect();
  void disconnect();
  void run_once(std::chrono::milliseconds timeout);
  // Connected, logged in, and the server acknowledged our device list and bundle.
  bool online() const { return online_; }
  bool connection_failed() const { return failed_; }
  // Between connect() and either online or the end of that attempt: the owner's loop may
  // call connect() again when this is false and online() is false (the tunnel came back).
  bool connecting() const { return connecting_; }

  // Queue a message (encrypted to each provisioned device of the peer; bundles fetched as
  // needed). Returns the message id, or nullopt if the text or peer is refused.
  std::optional<std::string> send(const Jid& peer, const std::string& text);
  std::optional<std::string> send_group(const std::string& group_id, const std::string& text);
  void mark_displayed(const Jid& peer, const std::string& id);

  const History& history() const { return history_; }
  const ClientCounters& counters() const { return counters_; }
  const Provisioning& provisioning() const { return provisioning_; }

 private:
  struct Pending {
    std::string id;
    Jid to;
    std::optional<std::string> group;
    std::string text;
  };
  struct CtxFree {
    void operator()(xmpp_ctx_t* c) const { xmpp_ctx_free(c); }
  };
  struct ConnFree {
    void operator()(xmpp_conn_t* c) const { xmpp_conn_release(c); }
  };

  static void on_connection(xmpp_conn_t* conn, xmpp_conn_event_t status, int error,
                            xmpp_stream_error_t* stream_error, void* self);
  static int on_message(xmpp_conn_t* conn, xmpp_stanza_t* stanza, void* self);
  static int on_publish_result(xmpp_conn_t* conn, xmpp_stanza_t* stanza, void* self);
  static int on_bundle_result(xmpp_conn_t* conn, xmpp_stanza_t* stanza, void* self);
  static int on_certificate_failure(const xmpp_tlscert_t* cert, const char* error);

  void handle(const Incoming& value);
  void handle_chat(const EncryptedChat& chat);
  void reject(const std::string& reason);
  void publish();
  void flush_pending();
  bool try_send(const Pending& p);
  void request_bundle(const Jid& owner, std::uint32_t device);
  void send_stanza(const StanzaPtr& s);
  std::string fresh_id();
  std::optional<std::string> enqueue(Pending p);

  Provisioning provisioning_;
  OmemoDevice omemo_;
  History history_;
  ReplayGuard replay_;
  ClientEvents events_;
  ClientCounters counters_;
  xmpp_log_t log_;
  std::unique_ptr<xmpp_ctx_t, CtxFree> ctx_;
  std::unique_ptr<xmpp_conn_t, ConnFree> conn_;
  bool connected_ = false;
  bool connecting_ = false;
  bool online_ = false;
  bool failed_ = false;
  int publishes_outstanding_ = 0;
  std::vector<Pending> pending_;
  // Bundle requests in flight (iq id -> device) and devices whose bundle could not be used.
  std::map<std::string, std::pair<Jid, std::uint32_t>> bundle_requests_;
  std::set<std::pair<Jid, std::uint32_t>> bundle_failed_;
};

}  // namespace twofold::messenger
