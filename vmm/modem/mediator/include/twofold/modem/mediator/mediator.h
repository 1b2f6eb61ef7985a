#pragma once
// The modem mediator: two virtual AT modems (one per persona) over one physical modem.
// No I/O and no clock of its own: the backend feeds bytes and time in and supplies the
// ports, so the same object runs behind console rings, in-memory streams and tests.
//
//   persona bytes -> CommandStream -> CommandPolicy (refuse + audit) -> local answer or Job
//   Job -> Arbiter (one in flight) -> StateFilter::rewrite -> canonical text -> modem
//   modem bytes -> ResponseStream -> information (StateFilter) / final / URC (UrcRouter)
#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "twofold/modem/at/command_stream.h"
#include "twofold/modem/at/response_stream.h"
#include "twofold/modem/mediator/arbiter.h"
#include "twofold/modem/mediator/audit_reporter.h"
#include "twofold/modem/mediator/command_policy.h"
#include "twofold/modem/mediator/phonebook_filter.h"
#include "twofold/modem/mediator/refusal_limiter.h"
#include "twofold/modem/mediator/token_bucket.h"
#include "twofold/modem/mediator/state_filter.h"
#include "twofold/modem/mediator/urc_router.h"
#include "twofold/modem/mediator/virtual_modem.h"

namespace twofold::modem::mediator {

class ModemPort {
 public:
  virtual ~ModemPort() = default;
  virtual void to_modem(std::string_view bytes) = 0;
};

class PersonaPort {
 public:
  virtual ~PersonaPort() = default;
  virtual void to_persona(PersonaIndex persona, std::string_view bytes) = 0;
};

using LogFunction = std::function<void(std::string_view)>;

struct MediatorConfig {
  std::vector<PersonaRights> personas;  // PersonaIndex order
  policy::Modem modem_policy;
  std::chrono::milliseconds command_timeout{10000};
  // A half-sent line or an SMS body not finished within this is dropped.
  std::chrono::milliseconds partial_input_timeout{30000};
  // A half line from the modem not finished within this is dropped. A real modem sends a
  // line in one burst (2048 bytes take 180 ms at 115200 baud); a fragment left over would
  // otherwise be completed by the terminator of the next command's answer and taken for it.
  std::chrono::milliseconds modem_partial_line_timeout{1000};
  // With routes by called line, a new call's RING waits this long for the modem's +CDIP
  // before it is routed without one (27.007 sends +CDIP right after RING).
  std::chrono::milliseconds called_line_wait{1000};
  // A ringing call that sends no RING/+CLIP for this long was abandoned (the caller gave up
  // without NO CARRIER reaching us): +CLCC is polled before the next call is routed.
  std::chrono::milliseconds ring_stale_after{8000};
  // Each persona's own share of the SIM's message storage (+CPMS shows it as the capacity).
  // The SIM needs more than personas x sms_quota slots (the lab simulator has 20): an SMS
  // over a quota is deleted by dom0, and until then it takes one slot.
  std::uint32_t sms_quota = 8;
  std::size_t queue_capacity = 4;
  std::uint8_t sim_slot = 1;  // the slot of the modem's SIM, for routes
  // How many refusals per persona are audited and logged one by one (refusal_limiter.h).
  RefusalLimits refusal_limits{};
};

struct MediatorStats {
  std::uint64_t forwarded = 0;
  std::uint64_t refused = 0;
  std::uint64_t malformed = 0;
  std::uint64_t timeouts = 0;
  std::uint64_t reinitialisations = 0;
  std::uint64_t stale_modem_fragments = 0;
  std::uint64_t refusals_suppressed = 0;  // counted in summary records, not one by one
};

class Mediator {
 public:
  using Clock = std::chrono::steady_clock;

  Mediator(MediatorConfig config, ModemPort& modem, PersonaPort& personas, AuditSink& audit,
           NumberRedactor redactor, LogFunction log);
  ~Mediator();
  Mediator(const Mediator&) = delete;
  Mediator& operator=(const Mediator&) = delete;

  // Puts the physical modem into the state the mediator relies on (E0 V1, numeric +CME
  // errors, +CLIP and +CREG URCs on).
  void start(Clock::time_point now);
  // Returns how many bytes were taken: fewer than given when the persona's queue is full
  // (the rest stays in its ring: back-pressure, never a dropped command).
  std::size_t from_persona(PersonaIndex persona, std::string_view untrusted_bytes, Clock::time_point now);
  void from_modem(std::string_view untrusted_bytes, Clock::time_point now);
  // Timeouts: the command in flight, half-sent input.
  void tick(Clock::time_point now);
  // Audits the refusals still counted (not yet in a summary record): call before stopping.
  void flush_suppressed_refusals();
  void set_foreground(PersonaIndex persona) { foreground_ = persona; }

  const MediatorStats& stats() const noexcept { return stats_; }
  bool idle() const;

 private:
  struct Job;
  struct Session;

  void on_line(PersonaIndex persona, const at::CommandLine& line, Clock::time_point now);
  // Answers the line with the refusal's error; logged and audited within the record budget.
  void refuse(PersonaIndex persona, const at::CommandLine& line, const Refusal& refusal, Clock::time_point now);
  // true when the line holds no SMS send, the persona has no sms_per_hour, or a send is left.
  bool take_sms_send(PersonaIndex persona, const at::CommandLine& line, Clock::time_point now);
  void on_event(PersonaIndex persona, at::CommandEvent event, Clock::time_point now);
  void submit(PersonaIndex persona, Job job, Clock::time_point now);
  void pump(Clock::time_point now);
  void send_current(Clock::time_point now);
  void on_response(at::ResponseEvent event, Clock::time_point now);
  void on_final(const at::FinalResult& result, Clock::time_point now);
  void route_urc(const at::ResponseLine& line, Clock::time_point now);
  void deliver(const std::vector<Delivery>& deliveries);
  // next: start the next job at once (false when the caller must queue something first).
  void finish_job(std::optional<std::string> final_text, Clock::time_point now, bool next = true);
  std::string error_for(PersonaIndex persona, const std::string& cme_text) const;
  void reinitialise(Clock::time_point now, bool cancel_body);
  void drop_stale_modem_input(Clock::time_point now);
  void refresh_calls();
  void say(PersonaIndex persona, std::string_view text);
  // true: log and audit this refusal one by one; false: counted for its persona's summary.
  bool admit_refusal(PersonaIndex persona, Clock::time_point now);
  void report_suppressed(const RefusalLimiter::Suppressed& suppressed);
  std::string persona_final(PersonaIndex persona, const at::FinalResult& result) const;
  // +CMGL as the persona's own modem would list: one +CMGR per own message of that status.
  bool expand_listing(PersonaIndex persona, const at::Command& command, Job& job);
  std::optional<std::string> filter_information(Job& job, const at::ResponseLine& line);
  void detect_stale_ringing(const at::ResponseLine& line, Clock::time_point now);
  Job init_job() const;
  static Job answer_job(std::string final_text);

  MediatorConfig config_;
  ModemPort& modem_;
  PersonaPort& personas_;
  LogFunction log_;
  AuditReporter audit_;
  std::vector<CommandPolicy> policies_;
  std::vector<std::unique_ptr<Session>> sessions_;
  StateFilter state_;
  PhonebookFilter phonebook_;
  UrcRouter urcs_;
  std::unique_ptr<Arbiter<Job>> arbiter_;
  at::ResponseStream responses_;
  PersonaIndex foreground_ = 0;
  bool initialised_ = false;  // the init job has run since the last (re)start
  std::optional<Clock::time_point> modem_partial_since_;
  std::optional<Clock::time_point> held_since_;  // an incoming call waits for its called line
  std::optional<Clock::time_point> last_ring_;   // the last RING/+CLIP of the ringing call
  RefusalLimiter refusals_;
  // Per persona, from the policy's sms_per_hour; nullopt: not limited by the mediator.
  std::vector<std::optional<TokenBucket>> sms_budgets_;
  MediatorStats stats_;
};

}  // namespace twofold::modem::mediator
