#include "twofold/modem/mediator/mediator.h"

#include <algorithm>
#include <array>
#include <string>
#include <utility>
#include <variant>

#include "twofold/modem/at/format.h"
#include "twofold/modem/at/limits.h"

namespace twofold::modem::mediator {
namespace {

constexpr std::string_view kOk = "OK";
constexpr std::string_view kError = "ERROR";

// Commands after which the modem prompts "> " for a body. 27.005 §3.5.3: +CMGW may be given
// without parameters (a message with no address), so its action form prompts too.
bool is_sms_send(const at::Command& c) {
  if (c.kind != at::CommandKind::kExtended) return false;
  if (c.form == at::CommandForm::kSet) return c.name == "+CMGS" || c.name == "+CMGW";
  return c.form == at::CommandForm::kAction && c.name == "+CMGW";
}

// A send to the network (what sms_per_hour counts): +CMGW only stores on the SIM, and +CMSS
// (send from storage) is refused as unknown.
bool is_sms_submission(const at::Command& c) {
  return c.kind == at::CommandKind::kExtended && c.form == at::CommandForm::kSet && c.name == "+CMGS";
}

bool needs_text_mode_choice(const at::Command& c) {
  return c.name == "+CMGS" || c.name == "+CMGW" || c.name == "+CMGR" || c.name == "+CMGL";
}

bool ends_only_calls(const at::Command& in_flight, const at::FinalResult& result) {
  const bool call_progress = result.code == at::FinalCode::kNoCarrier || result.code == at::FinalCode::kBusy ||
                             result.code == at::FinalCode::kNoAnswer;
  const bool call_command = in_flight.kind == at::CommandKind::kDial ||
                            (in_flight.kind == at::CommandKind::kBasic && in_flight.name == "A");
  return call_progress && !call_command;
}

at::Command set_command(std::string name, std::uint32_t value) {
  at::Command c;
  c.kind = at::CommandKind::kExtended;
  c.form = at::CommandForm::kSet;
  c.name = std::move(name);
  c.params = {at::Parameter::of_number(value)};
  return c;
}

at::Command action_command(std::string name, at::CommandKind kind = at::CommandKind::kExtended) {
  at::Command c;
  c.kind = kind;
  c.form = at::CommandForm::kAction;
  c.name = std::move(name);
  return c;
}

at::Command basic_set(std::string name, std::uint32_t value) {
  at::Command c = action_command(std::move(name), at::CommandKind::kBasic);
  c.form = at::CommandForm::kSet;
  c.params = {at::Parameter::of_number(value)};
  return c;
}

}  // namespace

// One physical command of a job. A turn on the line is one step, or a step and the ones
// joined to it (the persona's +CMGF in front of its SMS command: the mode is shared, so
// nothing of the other persona may run between the two).
struct Step {
  explicit Step(at::Command c, bool joined = false) : command(std::move(c)), with_next(joined) {}
  at::Command command;
  bool with_next = false;               // the next step runs in the same turn
  bool tolerant = false;                // an error does not end the job (listing steps)
  std::optional<std::uint32_t> list_as; // a +CMGR shown as "+CMGL: <list_as>,..."
};

// One unit of work for the physical line: the forwarded commands of one guest line (sent
// one at a time, so that every response is read in the context of exactly one command),
// or dom0 housekeeping.
struct Mediator::Job {
  std::optional<PersonaIndex> persona;  // nullopt: housekeeping
  std::vector<Step> steps;
  std::size_t next = 0;
  std::string prefix_output;               // answers of local commands, sent first
  std::optional<std::string> final_text;   // decided already (refusal, local-only line)
  std::optional<std::string> body;         // SMS body sent after the "> " prompt
  at::Command current;                     // as sent (rewritten to modem ids)
  bool init = false;
  bool listing = false;                    // an expanded +CMGL: its final is OK
};

Mediator::Job Mediator::answer_job(std::string final_text) {
  Job job;
  job.final_text = std::move(final_text);
  return job;
}

// The persona's virtual modem: its parser, its settings, its counters. Nothing here is
// shared with the other persona.
struct Mediator::Session {
  at::CommandStream stream;
  VirtualModem modem;
  std::uint32_t message_reference = 0;       // its own +CMGS: <mr> sequence (23.040 TP-MR)
  std::optional<at::CommandLine> last_line;  // for A/
  std::optional<Job> pending_sms;            // waiting for its body
  std::size_t outstanding = 0;               // jobs queued or in flight
  std::optional<Clock::time_point> partial_since;

  Session() { sync_stream(); }
  void sync_stream() { stream.set_config({modem.terminator(), modem.backspace()}); }
};

Mediator::Mediator(MediatorConfig config, ModemPort& modem, PersonaPort& personas, AuditSink& audit,
                   NumberRedactor redactor, LogFunction log)
    : config_(std::move(config)),
      modem_(modem),
      personas_(personas),
      log_(std::move(log)),
      audit_(audit, std::move(redactor)),
      state_(config_.personas.size()),
      phonebook_(config_.personas.size()),
      urcs_(IncomingRouter(config_.modem_policy,
                           [&] {
                             std::vector<std::string> names;
                             for (const auto& p : config_.personas) names.push_back(p.name);
                             return names;
                           }()),
            state_, audit_,
            [&] {
              std::vector<std::string> names;
              for (const auto& p : config_.personas) names.push_back(p.name);
              return names;
            }()),
      arbiter_(std::make_unique<Arbiter<Job>>(config_.personas.size(), config_.queue_capacity)),
      refusals_(config_.personas.size(), config_.refusal_limits) {
  state_.set_message_quota(config_.sms_quota);
  for (const auto& rights : config_.personas) {
    policies_.emplace_back(rights);
    sessions_.push_back(std::make_unique<Session>());
    std::optional<TokenBucket> sms_budget;
    if (rights.sms_per_hour) sms_budget.emplace(*rights.sms_per_hour, std::chrono::milliseconds(3'600'000 / *rights.sms_per_hour));
    sms_budgets_.push_back(std::move(sms_budget));
  }
}

Mediator::~Mediator() = default;

Mediator::Job Mediator::init_job() const {
  Job job;
  job.init = true;
  // Echo off and verbose results: the response parser relies on both. Numeric +CME errors
  // are translated per persona. +CLIP/+CREG URCs on: personas filter them per their own
  // settings.
  // +CDIP: the called line after RING (multi-line subscriptions), for routes by called line.
  // The phonebook storage is the SIM's for both personas (PhonebookFilter partitions it).
  // +CCWA: waiting calls are announced, so that one routed to the persona without the
  // voice channel is seen (and kept from it) rather than missed.
  at::Command storage = action_command("+CPBS");
  storage.form = at::CommandForm::kSet;
  storage.params = {at::Parameter::of_string("SM")};
  for (at::Command& c : std::vector<at::Command>{basic_set("E", 0), basic_set("V", 1), set_command("+CMEE", 1),
                                                 set_command("+CLIP", 1), set_command("+CREG", 1),
                                                 set_command("+CDIP", 1), set_command("+CCWA", 1), std::move(storage)}) {
    job.steps.push_back(Step{std::move(c)});
  }
  return job;
}

void Mediator::start(Clock::time_point now) {
  arbiter_->enqueue_housekeeping(init_job(), true);
  pump(now);
}

bool Mediator::idle() const {
  auto& arbiter = *arbiter_;
  if (arbiter.housekeeping_queued() != 0) return false;
  for (PersonaIndex p = 0; p < sessions_.size(); ++p) {
    if (arbiter.queued(p) != 0) return false;
  }
  return !arbiter.busy();
}

void Mediator::say(PersonaIndex persona, std::string_view text) {
  std::string out;
  out.reserve(text.size() + 4);
  out += "\r\n";
  out += text;
  out += "\r\n";
  personas_.to_persona(persona, out);
}

std::size_t Mediator::from_persona(PersonaIndex persona, std::string_view untrusted_bytes, Clock::time_point now) {
  if (persona >= sessions_.size()) return 0;
  Session& session = *sessions_[persona];
  std::size_t taken = 0;
  while (taken < untrusted_bytes.size()) {
    // Back-pressure: an event is only parsed when its job is sure to fit in the queue.
    if (!arbiter_->has_room(persona)) break;
    at::CommandStep step = session.stream.consume(untrusted_bytes.substr(taken));
    taken += step.consumed;
    if (step.event) on_event(persona, std::move(*step.event), now);
  }
  if (session.stream.has_partial_input()) {
    if (!session.partial_since) session.partial_since = now;
  } else {
    session.partial_since.reset();
  }
  return taken;
}

void Mediator::on_event(PersonaIndex persona, at::CommandEvent event, Clock::time_point now) {
  Session& session = *sessions_[persona];
  const std::string& name = config_.personas[persona].name;
  if (auto* line = std::get_if<at::CommandLineEvent>(&event)) {
    if (session.modem.echo()) personas_.to_persona(persona, line->raw + session.modem.terminator());
    session.last_line = line->line;
    on_line(persona, line->line, now);
  } else if (std::holds_alternative<at::RepeatEvent>(event)) {
    if (session.last_line) {
      on_line(persona, *session.last_line, now);
    } else {
      submit(persona, answer_job(std::string(kError)), now);
    }
  } else if (auto* error = std::get_if<at::CommandErrorEvent>(&event)) {
    ++stats_.malformed;
    const std::string_view reason = at::to_string(error->error.reason);
    if (admit_refusal(persona, now)) {
      log_("modem: " + name + ": refused malformed input (" + std::string(reason) + " at byte " +
           std::to_string(error->error.offset) + ")");
      audit_.malformed(name, reason);
    }
    session.pending_sms.reset();
    submit(persona, answer_job(std::string(kError)), now);
  } else if (std::holds_alternative<at::SmsCancelledEvent>(event)) {
    session.pending_sms.reset();
    submit(persona, answer_job(std::string(kOk)), now);
  } else if (session.pending_sms) {
    Job job = std::move(*session.pending_sms);
    session.pending_sms.reset();
    if (auto* text = std::get_if<at::SmsTextEvent>(&event)) {
      job.body = text->body.text;
    } else if (auto* pdu = std::get_if<at::SmsPduEvent>(&event)) {
      job.body = at::to_hex(pdu->body);
    }
    submit(persona, std::move(job), now);
  }
}

void Mediator::on_line(PersonaIndex persona, const at::CommandLine& line, Clock::time_point now) {
  Session& session = *sessions_[persona];
  const CommandPolicy& policy = policies_[persona];
  const LineVerdict verdict = policy.decide(line);
  if (!verdict.allowed()) {
    refuse(persona, line, *verdict.refusal, now);
    return;
  }
  if (!take_sms_send(persona, line, now)) return;
  Job job;
  job.persona = persona;
  std::optional<std::string> local_error;
  const StorageView storage{static_cast<std::uint32_t>(state_.own_messages(persona).size()), state_.message_quota()};
  for (const at::Command& command : line.commands) {
    const Classification c = classify(command);
    if (c.handling == Handling::kLocal) {
      LocalAnswer answer = session.modem.answer(command, storage);
      session.sync_stream();
      if (!answer.ok) {
        local_error = answer.error.empty() ? std::string(kError) : answer.error;
        break;
      }
      for (const std::string& info : answer.info) job.prefix_output += "\r\n" + info + "\r\n";
      continue;
    }
    if (command.name == "+CMGL" && command.form != at::CommandForm::kTest) {
      if (!expand_listing(persona, command, job)) {
        local_error = session.modem.cmgf() == 1 ? "+CMS ERROR: 305" : "+CMS ERROR: 304";
        break;
      }
      continue;
    }
    if (command.name == "+CMGW" && command.form != at::CommandForm::kTest && storage.used >= storage.capacity) {
      // Its own storage is full, whatever the SIM holds for the other persona.
      local_error = "+CMS ERROR: 322";
      break;
    }
    if (needs_text_mode_choice(command)) {
      // The physical modem's SMS mode is shared: each persona's mode travels with its
      // own SMS commands, in the same turn.
      job.steps.push_back(Step{set_command("+CMGF", session.modem.cmgf()), true});
    }
    Step step{command};
    if (command.kind == at::CommandKind::kDial && !command.dial.clir && session.modem.clir() != 0) {
      // The persona's +CLIR, applied to its own dials only (27.007 §6.2 I / i).
      step.command.dial.clir = session.modem.clir() == 1;
    }
    job.steps.push_back(std::move(step));
  }
  if (local_error) {
    job.steps.clear();
    job.prefix_output.clear();
    job.final_text = error_for(persona, *local_error);
  }
  if (!job.steps.empty() && is_sms_send(job.steps.back().command)) {
    const at::Command& send = job.steps.back().command;
    if (session.modem.cmgf() == 0) {
      const bool has_length = !send.params.empty() && send.params[0].is_number();
      if (!has_length || session.stream.enter_pdu_body(send.params[0].number)) {
        submit(persona, answer_job("+CMS ERROR: 304"), now);
        return;
      }
    } else {
      session.stream.enter_text_body();
    }
    // The body is collected before the job is queued: the physical line never waits for
    // a guest to finish typing.
    personas_.to_persona(persona, "\r\n> ");
    session.pending_sms = std::move(job);
    return;
  }
  if (job.steps.empty() && !job.final_text) job.final_text = std::string(kOk);
  submit(persona, std::move(job), now);
}

bool Mediator::expand_listing(PersonaIndex persona, const at::Command& command, Job& job) {
  // 27.005 §3.4.2 / §4.1: <stat> as text in text mode, as a number in PDU mode; the
  // default is "REC UNREAD". The modem's own +CMGL is never used: it lists (and marks read)
  // the other persona's messages too.
  static constexpr std::array<std::string_view, 5> kNames = {"REC UNREAD", "REC READ", "STO UNSENT", "STO SENT", "ALL"};
  std::uint32_t wanted = 0;
  if (!command.params.empty() && !command.params[0].is_empty()) {
    if (command.params.size() > 1) return false;
    const at::Parameter& p = command.params[0];
    if (sessions_[persona]->modem.cmgf() == 1) {
      const auto* it = std::find(kNames.begin(), kNames.end(), p.is_string() ? std::string_view(p.text) : "");
      if (it == kNames.end()) return false;
      wanted = static_cast<std::uint32_t>(it - kNames.begin());
    } else {
      if (!p.is_number() || p.number > 4) return false;
      wanted = p.number;
    }
  }
  for (const auto& [visible, physical] : state_.own_messages(persona)) {
    if (wanted != 4 && state_.message_status(physical) != wanted) continue;
    job.steps.push_back(Step{set_command("+CMGF", sessions_[persona]->modem.cmgf()), true});
    Step read(set_command("+CMGR", physical));
    read.tolerant = true;
    read.list_as = visible;
    job.steps.push_back(std::move(read));
  }
  job.listing = true;
  return true;
}

void Mediator::submit(PersonaIndex persona, Job job, Clock::time_point now) {
  Session& session = *sessions_[persona];
  job.persona = persona;
  if (job.steps.empty() && session.outstanding == 0) {
    // Answered at once: nothing of this persona is waiting that it could overtake.
    personas_.to_persona(persona, job.prefix_output);
    say(persona, job.final_text.value_or(std::string(kOk)));
    return;
  }
  if (!arbiter_->enqueue(persona, std::move(job))) {
    // from_persona checked for room before parsing; reaching here is a bug, not a guest.
    log_("modem: internal: queue full after room check");
    return;
  }
  ++session.outstanding;
  pump(now);
}

void Mediator::pump(Clock::time_point now) {
  while (arbiter_->in_flight() == nullptr) {
    Job* job = arbiter_->start_next(now + config_.command_timeout);
    if (job == nullptr) return;
    // One deadline per turn: the turn's steps (at most a +CMGF and its command, or dom0's
    // init) share it; it is never extended per command.
    std::size_t turn = 1;
    for (std::size_t i = job->next; i < job->steps.size() && job->steps[i].with_next; ++i) ++turn;
    arbiter_->extend(now + config_.command_timeout * static_cast<int>(turn));
    if (job->persona && !job->prefix_output.empty()) personas_.to_persona(*job->persona, std::exchange(job->prefix_output, {}));
    if (job->steps.size() <= job->next) {
      finish_job(job->final_text.value_or(std::string(kOk)), now);
      continue;
    }
    send_current(now);
  }
}

void Mediator::send_current(Clock::time_point now) {
  Job& job = *arbiter_->in_flight();
  const at::Command& command = job.steps[job.next].command;
  if (job.persona) {
    // A listing step names the modem's index already (the mediator expanded +CMGL itself).
    Rewritten rewritten = job.steps[job.next].list_as ? Rewritten(command)
                          : PhonebookFilter::handles(command) ? phonebook_.rewrite(*job.persona, command)
                                                              : state_.rewrite(*job.persona, command);
    if (auto* error = std::get_if<LocalError>(&rewritten)) {
      if ((error->result == kOk || job.steps[job.next].tolerant) && job.next + 1 < job.steps.size()) {
        // Answered locally (e.g. a phonebook read with no own entries): go on with the line.
        ++job.next;
        send_current(now);
        return;
      }
      if (job.listing) {
        finish_job(std::string(kOk), now);
        return;
      }
      finish_job(error_for(*job.persona, error->result), now);
      return;
    }
    job.current = std::get<at::Command>(std::move(rewritten));
    if (job.current.kind == at::CommandKind::kDial) state_.note_dial(*job.persona);
  } else {
    job.current = command;
  }
  const std::string text = at::format_command_line(at::CommandLine{{job.current}});
  if (text.size() > at::kMaxCommandLineLength) {
    // Escaping made it longer than the modem must accept.
    finish_job(std::string(kError), now);
    return;
  }
  // Bytes still waiting for their terminator were sent before this command: completed by the
  // first terminator of its answer they would be read as its final result.
  drop_stale_modem_input(now);
  responses_.set_context(at::ResponseContext{true, job.current.name, text, is_sms_send(job.current)});
  // dom0's initialisation is one atomic job of a few commands, each with its own timeout (a
  // silent modem is found after one). A persona's turn has one deadline (pump()).
  if (job.init) arbiter_->extend(now + config_.command_timeout);
  ++stats_.forwarded;
  modem_.to_modem(text + "\r");
}

void Mediator::from_modem(std::string_view untrusted_bytes, Clock::time_point now) {
  drop_stale_modem_input(now);
  responses_.feed(untrusted_bytes, [&](at::ResponseEvent event) { on_response(std::move(event), now); });
  if (!responses_.has_partial_input()) {
    modem_partial_since_.reset();
  } else if (!modem_partial_since_) {
    modem_partial_since_ = now;
  }
}

void Mediator::drop_stale_modem_input(Clock::time_point now) {
  if (!modem_partial_since_ || now - *modem_partial_since_ < config_.modem_partial_line_timeout) return;
  if (responses_.has_partial_input()) {
    ++stats_.stale_modem_fragments;
    log_("modem: dropped a half line from the modem left unfinished past the timeout");
    responses_.reset();
  }
  modem_partial_since_.reset();
}

void Mediator::on_response(at::ResponseEvent event, Clock::time_point now) {
  if (auto* error = std::get_if<at::ResponseErrorEvent>(&event)) {
    log_("modem: dropped a bad line from the modem (" + std::string(at::to_string(error->error.reason)) + ")");
    return;
  }
  const at::ResponseLine& line = std::get<at::ResponseLine>(event);
  Job* job = arbiter_->in_flight();
  switch (line.kind) {
    case at::ResponseKind::kFinal:
      if (job != nullptr && line.final && !ends_only_calls(job->current, *line.final)) {
        on_final(*line.final, now);
        return;
      }
      if (job == nullptr) return;
      // NO CARRIER / BUSY / NO ANSWER can only end ATD or ATA; during any other command it
      // is the remote end hanging up (V.250 leaves this ambiguous on the wire).
      route_urc(line, now);
      return;
    case at::ResponseKind::kInformation:
      if (job == nullptr) return;
      if (!job->persona) {
        state_.observe_call_line(line);
      } else if (auto text = filter_information(*job, line)) {
        say(*job->persona, *text);
      }
      return;
    case at::ResponseKind::kPrompt:
      if (job != nullptr && job->body) {
        modem_.to_modem(*job->body + at::kSubmitByte);
      } else {
        modem_.to_modem(std::string(1, at::kCancelByte));
      }
      return;
    case at::ResponseKind::kUnsolicited:
      route_urc(line, now);
      return;
    case at::ResponseKind::kEcho:
      // Expected while initialising; afterwards echo is off, so an echo means the modem
      // was reset under us.
      if (!initialised_ || (job != nullptr && job->init)) return;
      initialised_ = false;
      log_("modem: echo seen, the modem was reset; re-initialising");
      arbiter_->enqueue_housekeeping(init_job(), true);
      return;
    case at::ResponseKind::kUnexpected:
      log_("modem: dropped an unexpected line from the modem");
      return;
  }
}

void Mediator::deliver(const std::vector<Delivery>& deliveries) {
  for (const Delivery& d : deliveries) {
    const VirtualModem& m = sessions_[d.persona]->modem;
    // Each persona's own URC settings; the physical modem has them on for everyone.
    bool wanted = true;
    for (std::string_view setting : {"+CLIP", "+CREG", "+CGREG", "+CEREG", "+CCWA"}) {
      if (d.text.starts_with(std::string(setting) + ":")) wanted = m.wants(setting);
    }
    if (!wanted) continue;
    // 27.007 §7.11: with +CRC=1 the persona gets +CRING instead of RING.
    say(d.persona, d.text == "RING" && m.wants("+CRC") ? "+CRING: VOICE" : d.text);
  }
}

void Mediator::detect_stale_ringing(const at::ResponseLine& line, Clock::time_point now) {
  const bool ringing = line.name == "RING" || line.name == "+CRING" || line.name == "+CLIP" || line.name == "+CCWA";
  if (!ringing) return;
  if (state_.incoming_owner() && last_ring_ && now - *last_ring_ > config_.ring_stale_after) {
    // The call routed last stopped ringing without NO CARRIER: this is the next call, routed
    // afresh; +CLCC tells what is left of the old one.
    log_("modem: ringing stopped without a final result; routing the next call afresh");
    state_.set_incoming_owner(std::nullopt);
    refresh_calls();
  }
  last_ring_ = now;
}

void Mediator::route_urc(const at::ResponseLine& line, Clock::time_point now) {
  detect_stale_ringing(line, now);
  const std::vector<Delivery> deliveries = urcs_.route(line, foreground_, IncomingContext{config_.sim_slot, std::nullopt});
  if (urcs_.take_new_call()) refresh_calls();
  deliver(deliveries);
  if (line.name == "+CMTI" && deliveries.empty() && line.fields_valid && line.fields.size() == 2 &&
      line.fields[1].is_number() && !state_.messages().owner(line.fields[1].number)) {
    // Over its persona's quota (or unreadable): nobody may see it, and it must not fill the
    // SIM the other persona's share lives on.
    log_("modem: an incoming SMS over its persona's storage quota was deleted");
    Job job;
    job.steps.push_back(Step{set_command("+CMGD", line.fields[1].number)});
    (void)arbiter_->enqueue_housekeeping(std::move(job));
  }
  if (!urcs_.holding()) {
    held_since_.reset();
  } else if (!held_since_) {
    held_since_ = now;
  }
  if (line.name == "NO CARRIER" || line.name == "BUSY" || line.name == "NO ANSWER") refresh_calls();
  pump(now);
}

void Mediator::on_final(const at::FinalResult& result, Clock::time_point now) {
  Job& job = *arbiter_->in_flight();
  const bool ok = result.code == at::FinalCode::kOk;
  state_.on_final(job.persona.value_or(0), job.current, result);
  if (job.persona && PhonebookFilter::handles(job.current)) phonebook_.on_final(*job.persona, result);
  if (job.persona && ok) {
    const std::string& name = config_.personas[*job.persona].name;
    if (job.current.kind == at::CommandKind::kDial) {
      audit_.call(name, CallDirection::kOutgoing, job.current.dial.number);
      refresh_calls();
    } else if (job.current.name == "+CMGS") {
      const bool has_number = !job.current.params.empty() && job.current.params[0].is_string();
      audit_.sms(name, CallDirection::kOutgoing, has_number ? job.current.params[0].text : "");
    } else if (job.current.name == "A" || job.current.name == "H" || job.current.name == "+CHUP" ||
               job.current.name == "+CHLD") {
      refresh_calls();
    }
  }
  if (job.persona && job.current.name == "+CMGR" && ok && !job.current.params.empty() && job.current.params[0].is_number()) {
    // 27.005: reading a received unread message makes it read.
    const std::uint32_t index = job.current.params[0].number;
    if (state_.message_status(index) == 0) state_.set_message_status(index, 1);
  }
  const bool go_on = ok || job.init || job.steps[job.next].tolerant;
  if (go_on && job.next + 1 < job.steps.size()) {
    const bool same_turn = job.init || job.steps[job.next].with_next;
    ++job.next;
    if (same_turn) {
      send_current(now);
      return;
    }
    // End of this turn: the other persona's next turn may go first (bounded scheduling).
    responses_.set_context(at::ResponseContext{});
    arbiter_->yield_in_flight();
    pump(now);
    return;
  }
  if (job.listing) {
    finish_job(std::string(kOk), now);
    return;
  }
  finish_job(job.persona ? std::optional(persona_final(*job.persona, result)) : std::nullopt, now);
}

std::optional<std::string> Mediator::filter_information(Job& job, const at::ResponseLine& line) {
  const PersonaIndex persona = *job.persona;
  Session& session = *sessions_[persona];
  const at::Command& current = job.current;
  if (PhonebookFilter::handles(current)) return phonebook_.filter_information(persona, line);
  if (line.name == "+CMGR" && current.name == "+CMGR") {
    const Step& step = job.steps[job.next];
    if (step.list_as) {
      // The persona's +CMGL, one own message at a time: "+CMGL: <its index>,<+CMGR fields>".
      if (!line.fields_valid) return std::nullopt;
      std::vector<at::Parameter> fields{at::Parameter::of_number(*step.list_as)};
      fields.insert(fields.end(), line.fields.begin(), line.fields.end());
      std::string out = format_response("+CMGL", fields);
      if (line.body) out += "\r\n" + *line.body;
      return out;
    }
  }
  if (line.name == "+CMGS" && current.name == "+CMGS") {
    // Its own message reference, not the modem's (which counts the other persona's sends).
    const std::uint32_t mr = session.message_reference;
    session.message_reference = (session.message_reference + 1) % 256;
    return "+CMGS: " + std::to_string(mr);
  }
  if (current.form == at::CommandForm::kRead && line.name == current.name && line.fields_valid && !line.fields.empty() &&
      (line.name == "+CREG" || line.name == "+CGREG" || line.name == "+CEREG" || line.name == "+CLIP")) {
    // <n> is the persona's own setting; the rest is the network's, the same for both.
    auto fields = line.fields;
    fields[0] = at::Parameter::of_number(session.modem.value(line.name));
    return format_response(line.name, fields);
  }
  return state_.filter_information(persona, line);
}

std::string Mediator::error_for(PersonaIndex persona, const std::string& cme_text) const {
  constexpr std::string_view kNotAllowed = "+CME ERROR: 3";
  if (cme_text == kNotAllowed) return refusal_result(RefusalReason::kReservedToDom0, sessions_[persona]->modem.cmee());
  // Other local +CME errors (an invalid phonebook index) follow the persona's +CMEE too;
  // +CMS errors are numeric in every mode.
  if (cme_text.starts_with("+CME ERROR:") && sessions_[persona]->modem.cmee() == ErrorFormat::kPlain) return std::string(kError);
  return cme_text;
}

std::string Mediator::persona_final(PersonaIndex persona, const at::FinalResult& result) const {
  const bool cme = result.code == at::FinalCode::kCmeError;
  if (cme && sessions_[persona]->modem.cmee() == ErrorFormat::kPlain) return std::string(kError);
  switch (result.code) {
    case at::FinalCode::kOk: return std::string(kOk);
    case at::FinalCode::kError: return std::string(kError);
    case at::FinalCode::kNoCarrier: return "NO CARRIER";
    case at::FinalCode::kBusy: return "BUSY";
    case at::FinalCode::kNoAnswer: return "NO ANSWER";
    case at::FinalCode::kNoDialtone: return "NO DIALTONE";
    case at::FinalCode::kConnect: return result.text.empty() ? "CONNECT" : result.text;
    case at::FinalCode::kCmeError:
    case at::FinalCode::kCmsError: {
      // Rebuilt from the parsed number, not copied from the modem.
      const std::string prefix = cme ? "+CME ERROR: " : "+CMS ERROR: ";
      return result.error_number ? prefix + std::to_string(*result.error_number) : std::string(kError);
    }
  }
  return std::string(kError);
}

void Mediator::finish_job(std::optional<std::string> final_text, Clock::time_point now, bool next) {
  std::optional<Job> job = arbiter_->finish();
  responses_.set_context(at::ResponseContext{});
  if (job && job->persona) {
    Session& session = *sessions_[*job->persona];
    if (session.outstanding > 0) --session.outstanding;
    say(*job->persona, final_text.value_or(std::string(kError)));
  }
  if (job && job->init) initialised_ = true;
  if (next) pump(now);
}

void Mediator::refresh_calls() {
  Job job;
  job.steps.push_back(Step{action_command("+CLCC")});
  // Bounded: when housekeeping is full a refresh is already pending.
  (void)arbiter_->enqueue_housekeeping(std::move(job));
}

void Mediator::reinitialise(Clock::time_point now, bool cancel_body) {
  ++stats_.reinitialisations;
  responses_.reset();
  modem_partial_since_.reset();
  // A modem left waiting for an SMS body would take the next command as text. ESC alone
  // (no CR): in command mode a CR after it would be answered ERROR, and that stray final
  // would be taken for the next command's.
  if (cancel_body) modem_.to_modem(std::string(1, at::kCancelByte));
  arbiter_->enqueue_housekeeping(init_job(), true);
  refresh_calls();
  pump(now);
}

void Mediator::refuse(PersonaIndex persona, const at::CommandLine& line, const Refusal& refusal,
                      Clock::time_point now) {
  ++stats_.refused;
  const std::string& name = config_.personas[persona].name;
  const at::Command& refused = line.commands[refusal.command_index];
  if (admit_refusal(persona, now)) {
    log_("modem: " + name + ": refused " + refused.name + " (" + std::string(to_string(refusal.reason)) + ")");
    audit_.refused(name, refused, refusal);
  }
  submit(persona, answer_job(refusal_result(refusal.reason, sessions_[persona]->modem.cmee())), now);
}

bool Mediator::take_sms_send(PersonaIndex persona, const at::CommandLine& line, Clock::time_point now) {
  std::optional<TokenBucket>& budget = sms_budgets_[persona];
  if (!budget) return true;
  for (std::size_t i = 0; i < line.commands.size(); ++i) {
    if (!is_sms_submission(line.commands[i])) continue;
    if (budget->take(now)) return true;
    refuse(persona, line, Refusal{RefusalReason::kSmsBudgetExhausted, i, policy::AtFamily::sms}, now);
    return false;
  }
  return true;
}

bool Mediator::admit_refusal(PersonaIndex persona, Clock::time_point now) {
  if (refusals_.admit(persona, now)) return true;
  ++stats_.refusals_suppressed;
  return false;
}

void Mediator::report_suppressed(const RefusalLimiter::Suppressed& suppressed) {
  const std::string& name = config_.personas[suppressed.persona].name;
  log_("modem: " + name + ": " + std::to_string(suppressed.count) +
       " further refusals over the persona's record budget, audited as one summary");
  audit_.suppressed(name, suppressed.count);
}

void Mediator::flush_suppressed_refusals() {
  for (const auto& suppressed : refusals_.take_all()) report_suppressed(suppressed);
}

void Mediator::tick(Clock::time_point now) {
  drop_stale_modem_input(now);
  for (const auto& suppressed : refusals_.due(now)) report_suppressed(suppressed);
  if (held_since_ && now - *held_since_ >= config_.called_line_wait) {
    // The modem did not say which line was called: route as if no route named a line.
    held_since_.reset();
    deliver(urcs_.release_held(foreground_, IncomingContext{config_.sim_slot, std::nullopt}));
  }
  if (state_.incoming_owner() && last_ring_ && now - *last_ring_ > config_.ring_stale_after) {
    // No RING for a while: the call was abandoned or answered elsewhere; +CLCC decides
    // (its final clears the routing when nothing rings any more).
    last_ring_.reset();
    refresh_calls();
    pump(now);
  }
  if (arbiter_->expired(now)) {
    ++stats_.timeouts;
    log_("modem: no answer to " + arbiter_->in_flight()->current.name +
         " within the timeout; answering ERROR and re-initialising");
    // The modem's state is unknown: re-initialise before anything else is sent. Queued
    // commands stay queued; only the one in flight is answered ERROR.
    const bool at_sms_prompt = is_sms_send(arbiter_->in_flight()->current);
    finish_job(std::string(kError), now, /*next=*/false);
    reinitialise(now, at_sms_prompt);
  }
  for (PersonaIndex p = 0; p < sessions_.size(); ++p) {
    Session& session = *sessions_[p];
    if (session.partial_since && now - *session.partial_since >= config_.partial_input_timeout) {
      log_("modem: " + config_.personas[p].name + ": dropped a half-sent line or body after the timeout");
      session.stream.reset();
      session.pending_sms.reset();
      session.partial_since.reset();
    }
  }
}

}  // namespace twofold::modem::mediator
