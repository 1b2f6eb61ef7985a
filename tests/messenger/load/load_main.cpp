// twofold-messenger-load: many simulated officers against the organisation's XMPP server (a
// cluster of ejabberd nodes in tests/messenger/load/run_load.sh). Each officer logs in over
// TLS (the organisation's CA only), then sends one-to-one messages at a steady rate, each
// carrying its number and send time; the receiver validates what arrives and the ledger
// reports latency p50/p99/max, lost, duplicated and rejected messages, and a verdict.
// Bounded: by message count, by the send phase's wall time and by the drain time.
// One thread, one libstrophe context for every connection (libstrophe waits with select(),
// hence at most kMaxOfficers connections a process).
#include <strophe.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "ledger.h"
#include "probe.h"

namespace twofold::messenger::load {
namespace {

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch()).count();
}
constexpr std::int64_t kSecond = 1'000'000'000;

// This process's CPU time (user + system), to tell whether the generator was the bottleneck.
double cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  const auto s = [](const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6; };
  return s(u.ru_utime) + s(u.ru_stime);
}

struct Server {
  std::string host;
  std::uint16_t port = 0;
};

struct Options {
  std::vector<std::string> servers;
  std::string ca;
  std::string password;
  RunShape shape;
  double rate = 1.0;
  double connect_timeout_s = 300, duration_s = 0, drain_s = 10;
  double max_p99_ms = 0;
  std::size_t connect_concurrency = 16;
};

// Counts and logs hostile or unexpected events; only the first few are printed in full.
class EventLog {
 public:
  void note(const char* what, const std::string& detail) {
    if (++printed_ <= kPrinted) std::printf("load: %s: %s\n", what, detail.c_str());
    if (printed_ == kPrinted + 1) std::printf("load: (further event lines suppressed; counted)\n");
  }

 private:
  static constexpr int kPrinted = 20;
  int printed_ = 0;
};

struct StanzaDeleter {
  void operator()(xmpp_stanza_t* s) const { xmpp_stanza_release(s); }
};
using StanzaPtr = std::unique_ptr<xmpp_stanza_t, StanzaDeleter>;
struct CtxDeleter {
  void operator()(xmpp_ctx_t* c) const { xmpp_ctx_free(c); }
};
struct ConnDeleter {
  void operator()(xmpp_conn_t* c) const { xmpp_conn_release(c); }
};

void strophe_log(void* events, xmpp_log_level_t level, const char* area, const char* msg) {
  if (level >= XMPP_LEVEL_ERROR) static_cast<EventLog*>(events)->note("libstrophe", std::string(area) + ": " + msg);
}

struct Shared;  // what every officer's callbacks need: the shape, the ledger, the event log

// One simulated officer: one connection, its send schedule, its state.
class Officer {
 public:
  enum class State { connecting, online, available, closed };
  Officer(Shared& shared, xmpp_ctx_t* ctx, std::uint32_t index, const Server& server);
  Officer(const Officer&) = delete;
  Officer& operator=(const Officer&) = delete;
  ~Officer();
  bool connect();
  void disconnect();
  State state() const { return state_; }
  std::uint32_t index() const { return index_; }
  // Sends every message due by `now`; returns how late the first one was (ns), or -1.
  std::int64_t send_due(std::int64_t now);
  void schedule(std::int64_t first_ns, std::int64_t period_ns) {
    next_ns_ = first_ns;
    period_ns_ = period_ns;
  }
  bool done_sending() const;

 private:
  Shared& shared_;
  xmpp_ctx_t* ctx_;
  std::uint32_t index_;
  Server server_;
  std::string full_jid_;
  std::unique_ptr<xmpp_conn_t, ConnDeleter> conn_;
  State state_ = State::connecting;
  bool closing_ = false;  // we asked for the disconnect: not a lost connection
  std::uint32_t next_seq_ = 0;
  std::int64_t next_ns_ = 0, period_ns_ = 0;

  void send_probe(std::uint32_t to, std::uint32_t seq, const std::string& sent, bool group);
  static void on_connection(xmpp_conn_t*, xmpp_conn_event_t, int, xmpp_stream_error_t*, void*);
  static int on_message(xmpp_conn_t*, xmpp_stanza_t*, void*);
  static int on_presence(xmpp_conn_t*, xmpp_stanza_t*, void*);
  static int on_certificate_failure(const xmpp_tlscert_t*, const char*);
};

struct Shared {
  const Options& options;
  Ledger& ledger;
  EventLog& events;
  const std::string body;  // every probe's body: body_bytes of 'x', checked by the receiver
  std::uint64_t disconnects = 0, connect_failures = 0, ignored_presences = 0;
};

Officer::Officer(Shared& shared, xmpp_ctx_t* ctx, std::uint32_t index, const Server& server)
    : shared_(shared), ctx_(ctx), index_(index), server_(server),
      full_jid_(officer_bare_jid(shared.options.shape, index) + "/" + kResource), conn_(xmpp_conn_new(ctx)) {
  if (!conn_) throw std::runtime_error("xmpp_conn_new failed");
  xmpp_conn_set_flags(conn_.get(), XMPP_CONN_FLAG_MANDATORY_TLS);
  xmpp_conn_set_cafile(conn_.get(), shared.options.ca.c_str());
  xmpp_conn_set_certfail_handler(conn_.get(), on_certificate_failure);
  xmpp_conn_set_jid(conn_.get(), full_jid_.c_str());
  xmpp_conn_set_pass(conn_.get(), shared.options.password.c_str());
}

Officer::~Officer() {
  xmpp_handler_delete(conn_.get(), on_message);
  xmpp_handler_delete(conn_.get(), on_presence);
}

int Officer::on_certificate_failure(const xmpp_tlscert_t*, const char* error) {
  // The server's certificate must chain to the organisation's CA: never accept another.
  std::printf("load: server certificate refused: %s\n", error ? error : "?");
  return 0;
}

bool Officer::connect() {
  return xmpp_connect_client(conn_.get(), server_.host.c_str(), server_.port, on_connection, this) == XMPP_EOK;
}

void Officer::disconnect() {
  closing_ = true;
  if (state_ != State::closed) xmpp_disconnect(conn_.get());
}

void Officer::on_connection(xmpp_conn_t* conn, xmpp_conn_event_t status, int error, xmpp_stream_error_t* stream_error,
                            void* self_ptr) {
  auto& self = *static_cast<Officer*>(self_ptr);
  if (status == XMPP_CONN_CONNECT) {
    self.state_ = State::online;
    xmpp_handler_add(conn, on_message, nullptr, "message", nullptr, self_ptr);
    xmpp_handler_add(conn, on_presence, nullptr, "presence", nullptr, self_ptr);
    // Available only once the server echoes our presence: before that a message to our bare
    // JID would go to offline storage, not to us.
    StanzaPtr presence{xmpp_presence_new(self.ctx_)};
    xmpp_send(conn, presence.get());
    return;
  }
  if (status == XMPP_CONN_RAW_CONNECT) return;
  const bool was_up = self.state_ == State::online || self.state_ == State::available;
  if (self.state_ == State::connecting) {
    ++self.shared_.connect_failures;
    self.shared_.events.note("connect failed", self.full_jid_ + " error " + std::to_string(error) +
                                                   (stream_error && stream_error->text ? std::string(" ") + stream_error->text : ""));
  }
  if (was_up && !self.closing_) {
    ++self.shared_.disconnects;
    self.shared_.events.note("connection lost", self.full_jid_ + " error " + std::to_string(error) +
                                                    (stream_error && stream_error->text ? std::string(" ") + stream_error->text : ""));
  }
  self.state_ = State::closed;
}

int Officer::on_presence(xmpp_conn_t*, xmpp_stanza_t* stanza, void* self_ptr) {
  auto& self = *static_cast<Officer*>(self_ptr);
  const char* from = xmpp_stanza_get_attribute(stanza, "from");
  const char* type = xmpp_stanza_get_attribute(stanza, "type");
  if (from && !type && self.full_jid_ == from && self.state_ == State::online) {
    self.state_ = State::available;
  } else {
    ++self.shared_.ignored_presences;  // nobody subscribed to anybody: nothing else is expected
  }
  return 1;
}

int Officer::on_message(xmpp_conn_t*, xmpp_stanza_t* stanza, void* self_ptr) {
  auto& self = *static_cast<Officer*>(self_ptr);
  const std::int64_t now = now_ns();
  auto parsed = parse_probe(stanza, self.shared_.options.shape, self.index_, now);
  if (auto* r = std::get_if<Rejection>(&parsed)) {
    self.shared_.ledger.record_rejection(r->kind);
    self.shared_.events.note(to_string(r->kind), r->reason);
    return 1;
  }
  const auto& probe = std::get<Probe>(parsed);
  switch (self.shared_.ledger.record_received(probe, now)) {
    case Ledger::Receipt::fresh: break;
    case Ledger::Receipt::duplicate:
      self.shared_.events.note("duplicate", "seq " + std::to_string(probe.seq) + " of officer " + std::to_string(probe.sender));
      break;
    case Ledger::Receipt::invented:
      self.shared_.events.note("invented", "seq " + std::to_string(probe.seq) + " of officer " + std::to_string(probe.sender) + " was never sent");
      break;
  }
  return 1;
}

bool Officer::done_sending() const { return next_seq_ >= shared_.options.shape.messages_per_officer; }

std::int64_t Officer::send_due(std::int64_t now) {
  std::int64_t lag = -1;
  const auto& shape = shared_.options.shape;
  while (state_ == State::available && !done_sending() && next_ns_ <= now) {
    if (lag < 0) lag = now - next_ns_;
    const std::uint32_t seq = next_seq_++;
    next_ns_ += period_ns_;
    // A unit's message leaves as one stanza per other member, back to back, one send time.
    const std::string sent = std::to_string(now_ns());
    const bool group = is_group_seq(shape, seq);
    for (const std::uint32_t to : recipients_of(shape, index_, seq)) send_probe(to, seq, sent, group);
    shared_.ledger.record_sent(index_, seq);
  }
  return lag;
}

void Officer::send_probe(std::uint32_t to, std::uint32_t seq, const std::string& sent, bool group) {
  const auto& shape = shared_.options.shape;
  const std::string jid = officer_bare_jid(shape, to);
  const std::string id = "p" + std::to_string(index_) + "-" + std::to_string(seq) + "-" + std::to_string(to);
  StanzaPtr msg{xmpp_message_new(ctx_, "chat", jid.c_str(), id.c_str())};
  StanzaPtr probe{xmpp_stanza_new(ctx_)};
  if (!msg || !probe) throw std::runtime_error("out of memory building a stanza");
  xmpp_message_set_body(msg.get(), shared_.body.c_str());
  xmpp_stanza_set_name(probe.get(), "probe");
  xmpp_stanza_set_ns(probe.get(), kProbeNamespace);
  xmpp_stanza_set_attribute(probe.get(), "sender", std::to_string(index_).c_str());
  xmpp_stanza_set_attribute(probe.get(), "seq", std::to_string(seq).c_str());
  xmpp_stanza_set_attribute(probe.get(), "sent", sent.c_str());
  if (group) xmpp_stanza_set_attribute(probe.get(), "group", unit_id(unit_of(shape, index_)).c_str());
  xmpp_stanza_add_child(msg.get(), probe.get());
  xmpp_send(conn_.get(), msg.get());
}

std::optional<Server> parse_server(const std::string& text) {
  const auto colon = text.rfind(':');
  std::uint64_t port = 0;
  if (colon == std::string::npos || colon == 0 || !parse_decimal(std::string_view(text).substr(colon + 1), 65535, port) || port == 0)
    return std::nullopt;
  return Server{text.substr(0, colon), static_cast<std::uint16_t>(port)};
}

void print_latency(const char* what, const LatencyStats& s) {
  if (s.count == 0) {
    std::printf("load: latency %-10s none\n", what);
    return;
  }
  std::printf("load: latency %-10s p50 %.2f ms  p99 %.2f ms  max %.2f ms  (n=%zu)\n", what, s.p50_ms, s.p99_ms, s.max_ms, s.count);
}

// The run: connect everyone, send at the rate, drain, disconnect, report. Returns the exit status.
int run(const Options& options, const std::vector<Server>& servers) {
  const auto& shape = options.shape;
  std::vector<std::uint32_t> node_of(shape.officers);
  for (std::uint32_t i = 0; i < shape.officers; ++i) node_of[i] = i % static_cast<std::uint32_t>(servers.size());
  Ledger ledger(shape, node_of);
  EventLog events;
  Shared shared{options, ledger, events, std::string(shape.body_bytes, 'x')};
  xmpp_log_t log{strophe_log, &events};
  std::unique_ptr<xmpp_ctx_t, CtxDeleter> ctx(xmpp_ctx_new(nullptr, &log));
  if (!ctx) throw std::runtime_error("xmpp_ctx_new failed");

  std::vector<std::unique_ptr<Officer>> officers;
  for (std::uint32_t i = 0; i < shape.officers; ++i) officers.push_back(std::make_unique<Officer>(shared, ctx.get(), i, servers[node_of[i]]));
  const auto count = [&](Officer::State st) {
    return static_cast<std::size_t>(std::count_if(officers.begin(), officers.end(), [st](const auto& o) { return o->state() == st; }));
  };
  const std::uint64_t planned = planned_deliveries(shape);
  std::printf("load: %u officers on %zu node(s), %.2f msg/s each, %u messages each, %zu-byte bodies\n", shape.officers,
              servers.size(), options.rate, shape.messages_per_officer, shape.body_bytes);
  if (shape.unit_size >= 2 && shape.group_every > 0)
    std::printf("load: units of %u, every %u. message to the unit (fanned out by the sender): %llu deliveries planned\n",
                shape.unit_size, shape.group_every, static_cast<unsigned long long>(planned));

  // Connect everyone, a few at a time: libstrophe does the TLS handshake blocking, one
  // connection after the other, so sockets opened all at once sit unserved until ejabberd's
  // negotiation timeout (30 s) closes them. The run starts when every presence came back.
  const std::int64_t t_connect = now_ns();
  const std::int64_t connect_deadline = t_connect + static_cast<std::int64_t>(options.connect_timeout_s * kSecond);
  std::size_t started = 0;
  while (count(Officer::State::available) < officers.size() && count(Officer::State::closed) == 0 && now_ns() < connect_deadline) {
    const std::size_t settled = count(Officer::State::available);
    while (started < officers.size() && started - settled < options.connect_concurrency) {
      if (!officers[started]->connect()) ++shared.connect_failures;
      ++started;
    }
    xmpp_run_once(ctx.get(), 10);
  }
  const std::size_t available = count(Officer::State::available);
  const double cpu_logins = cpu_seconds();
  std::printf("load: available %zu/%u in %.1f s\n", available, shape.officers, static_cast<double>(now_ns() - t_connect) / kSecond);
  std::fflush(stdout);

  std::vector<std::int64_t> lags;
  double send_s = 0, drain_s = 0;
  if (available == officers.size()) {
    // Steady rate, phases spread evenly over one period so the server sees a flat stream.
    const auto period = static_cast<std::int64_t>(kSecond / options.rate);
    const std::int64_t t_send = now_ns() + kSecond / 10;
    for (auto& o : officers) o->schedule(t_send + period * o->index() / shape.officers, period);
    const double bound_s = options.duration_s > 0 ? options.duration_s : shape.messages_per_officer / options.rate * 1.5 + 10;
    const std::int64_t send_deadline = t_send + static_cast<std::int64_t>(bound_s * kSecond);
    for (;;) {
      const std::int64_t now = now_ns();
      bool all_done = true;
      for (auto& o : officers) {
        if (const auto lag = o->send_due(now); lag >= 0) lags.push_back(lag);
        all_done = all_done && (o->done_sending() || o->state() != Officer::State::available);
      }
      if (all_done || now >= send_deadline) break;
      xmpp_run_once(ctx.get(), 1);
    }
    const std::int64_t t_drain = now_ns();
    send_s = static_cast<double>(t_drain - t_send) / kSecond;
    const std::int64_t drain_deadline = t_drain + static_cast<std::int64_t>(options.drain_s * kSecond);
    while (ledger.received() < ledger.sent() && now_ns() < drain_deadline) xmpp_run_once(ctx.get(), 10);
    drain_s = static_cast<double>(now_ns() - t_drain) / kSecond;
    std::printf("load: drained (%llu of %llu received)\n", static_cast<unsigned long long>(ledger.received()),
                static_cast<unsigned long long>(ledger.sent()));
    std::fflush(stdout);
    // A moment online after the last message: libstrophe answers the server's stream-management
    // ack requests (<r/>) here. Logging out with an unacked message makes ejabberd bounce it to
    // its sender although it was delivered.
    const std::int64_t quiet_deadline = now_ns() + kSecond;
    while (now_ns() < quiet_deadline) xmpp_run_once(ctx.get(), 10);
  }
  for (auto& o : officers) o->disconnect();
  const std::int64_t close_deadline = now_ns() + 10 * kSecond;
  while (count(Officer::State::closed) < officers.size() && now_ns() < close_deadline) xmpp_run_once(ctx.get(), 10);

  const double cpu_messages = cpu_seconds() - cpu_logins;
  const Summary s = ledger.summary();
  std::printf("load: sent %llu of %llu planned in %.1f s, drained in %.1f s\n", static_cast<unsigned long long>(s.sent),
              static_cast<unsigned long long>(planned), send_s, drain_s);
  std::printf("load: received %llu  lost %llu  duplicated %llu  invented %llu\n", static_cast<unsigned long long>(s.received),
              static_cast<unsigned long long>(s.lost), static_cast<unsigned long long>(s.duplicated),
              static_cast<unsigned long long>(s.invented));
  std::printf("load: rejected bounced %llu  malformed %llu  forged %llu  misrouted %llu\n",
              static_cast<unsigned long long>(s.rejected[0]), static_cast<unsigned long long>(s.rejected[1]),
              static_cast<unsigned long long>(s.rejected[2]), static_cast<unsigned long long>(s.rejected[3]));
  std::printf("load: connections: connect failures %llu, lost while running %llu, unexpected presences %llu\n",
              static_cast<unsigned long long>(shared.connect_failures), static_cast<unsigned long long>(shared.disconnects),
              static_cast<unsigned long long>(shared.ignored_presences));
  print_latency("all", s.all);
  print_latency("cross-node", s.cross_node);
  print_latency("same-node", s.same_node);
  if (s.group.count) print_latency("unit", s.group);
  const LatencyStats lag = latency_stats(lags);
  std::printf("load: generator send lag p50 %.2f ms  p99 %.2f ms  max %.2f ms (how late a send left its schedule)\n", lag.p50_ms,
              lag.p99_ms, lag.max_ms);

  std::printf("load: generator CPU %.2f s for the logins, %.2f s for the messages and logouts\n", cpu_logins, cpu_messages);

  std::vector<std::string> why;
  if (available != officers.size()) why.push_back(std::to_string(officers.size() - available) + " officers never available");
  if (s.sent != planned)
    why.push_back("sent " + std::to_string(s.sent) + " of " + std::to_string(planned) +
                  (shared.disconnects ? " (senders lost their connection)" : " (time bound hit)"));
  if (s.lost) why.push_back(std::to_string(s.lost) + " lost");
  if (s.duplicated) why.push_back(std::to_string(s.duplicated) + " duplicated");
  if (s.invented) why.push_back(std::to_string(s.invented) + " invented");
  if (s.rejected_total()) why.push_back(std::to_string(s.rejected_total()) + " rejected");
  if (shared.connect_failures || shared.disconnects) why.push_back("connections failed or dropped");
  if (options.max_p99_ms > 0 && s.all.p99_ms > options.max_p99_ms) why.push_back("p99 over " + std::to_string(options.max_p99_ms) + " ms");
  if (why.empty()) {
    std::printf("load: verdict PASS: %llu messages, none lost, p50 %.2f ms, p99 %.2f ms\n", static_cast<unsigned long long>(s.received),
                s.all.p50_ms, s.all.p99_ms);
    return 0;
  }
  std::string reasons;
  for (const auto& w : why) reasons += (reasons.empty() ? "" : "; ") + w;
  std::printf("load: verdict FAIL: %s\n", reasons.c_str());
  return 1;
}

}  // namespace
}  // namespace twofold::messenger::load

int main(int argc, char** argv) {
  using namespace twofold::messenger::load;
  Options o;
  o.shape.officers = 300;
  o.shape.messages_per_officer = 60;
  o.shape.body_bytes = 512;
  CLI::App app{"Load test of the organisation's XMPP server: simulated officers send one-to-one messages at a steady\n"
               "rate over TLS; prints latency p50/p99/max, sent/received/lost/duplicated and a verdict (exit 0 = PASS).\n"
               "Officer i is <prefix><i>@<domain>/load and connects to --server number i mod (number of servers);\n"
               "its even-numbered messages go to officer i+1 (the other node), odd ones to officer i+2 (same node).\n"
               "The accounts must exist (tests/messenger/load/run_load.sh registers them)."};
  app.add_option("--server", o.servers, "HOST:PORT of a server node (repeat for each node of the cluster)")->required();
  app.add_option("--domain", o.shape.domain, "the XMPP domain the certificate names")->capture_default_str();
  app.add_option("--ca", o.ca, "the organisation's CA (PEM): the only one trusted")->required()->check(CLI::ExistingFile);
  app.add_option("--password", o.password, "every simulated officer's password (test accounts)")->required();
  app.add_option("--prefix", o.shape.prefix, "account names are <prefix><i>")->capture_default_str();
  app.add_option("--officers", o.shape.officers, "simulated officers (connections)")
      ->capture_default_str()->check(CLI::Range(3u, kMaxOfficers));
  app.add_option("--messages", o.shape.messages_per_officer, "messages each officer sends (count bound)")
      ->capture_default_str()->check(CLI::Range(1u, kMaxMessagesPerOfficer));
  app.add_option("--rate", o.rate, "messages a second each officer sends")->capture_default_str()->check(CLI::Range(0.01, 100.0));
  app.add_option("--body-bytes", o.shape.body_bytes, "body size (an OMEMO message's base64 is ~500 bytes)")
      ->capture_default_str()->check(CLI::Range(std::size_t{0}, kMaxBodyBytes));
  app.add_option("--unit-size", o.shape.unit_size, "officers per unit (consecutive indices; 0: no unit channels)")
      ->capture_default_str()->check(CLI::Range(0u, kMaxUnitSize));
  app.add_option("--group-every", o.shape.group_every, "every Nth message of an officer goes to its unit (0: none)")
      ->capture_default_str()->check(CLI::Range(0u, kMaxMessagesPerOfficer));
  app.add_option("--connect-timeout", o.connect_timeout_s, "seconds for every officer to be online")->capture_default_str()->check(CLI::Range(1.0, 600.0));
  app.add_option("--connect-concurrency", o.connect_concurrency, "logins in progress at a time")
      ->capture_default_str()->check(CLI::Range(std::size_t{1}, std::size_t{kMaxOfficers}));
  app.add_option("--duration", o.duration_s, "wall-time bound of the send phase in seconds (0: messages/rate*1.5+10)")
      ->capture_default_str()->check(CLI::Range(0.0, 3600.0));
  app.add_option("--drain", o.drain_s, "seconds to wait for the last messages after sending")->capture_default_str()->check(CLI::Range(0.0, 600.0));
  app.add_option("--max-p99-ms", o.max_p99_ms, "also fail if p99 latency exceeds this (0: no latency goal)")->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // run_load.sh follows the phases line by line

  if (o.shape.unit_size == 1 || (o.shape.unit_size && o.shape.officers % o.shape.unit_size != 0)) {
    std::fprintf(stderr, "load: --unit-size must be at least 2 and divide --officers\n");
    return 2;
  }
  std::vector<Server> servers;
  for (const auto& s : o.servers) {
    auto server = parse_server(s);
    if (!server) {
      std::fprintf(stderr, "load: --server '%s' is not HOST:PORT\n", s.c_str());
      return 2;
    }
    servers.push_back(*server);
  }
  // libstrophe calls SSL_CTX_set_default_verify_paths for every connection before it adds
  // --ca: the system's whole CA bundle would be trusted too, and decoding it costs OpenSSL 3
  // ~60 ms of CPU per login (measured with perf, docs/benchmarks.md). Pointing OpenSSL's
  // default paths at the organisation's CA makes it the only trust anchor. Set once, before
  // any connection exists.
  if (setenv("SSL_CERT_FILE", o.ca.c_str(), 1) != 0 || setenv("SSL_CERT_DIR", o.ca.c_str(), 1) != 0) {
    std::fprintf(stderr, "load: setenv failed\n");
    return 1;
  }
  // libstrophe's send() on a connection the server closed raises SIGPIPE (docs/messaging.md).
  std::signal(SIGPIPE, SIG_IGN);
  o.shape.start_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch()).count();
  try {
    return run(o, servers);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "load: %s\n", e.what());
    return 1;
  }
}
