#include "twofold/modem/mediator/mediator.h"

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
constexpr std::size_t kSRegisters = at::kMaxSRegister + 1;

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

// One unit of work for the physical line: the forwarded commands of one guest line (sent
// one at a time, so that every response is read in the context of exactly one command),
// or dom0 housekeeping.
struct Mediator::Job {
  std::optional<PersonaIndex> persona;  // nullopt: housekeeping
  std::vector<at::Command> commands;
  std::size_t next = 0;
  std::string prefix_output;               // answers of local commands, sent first
  std::optional<std::string> final_text;   // decided already (refusal, local-only line)
  std::optional<std::string> body;         // SMS body sent after the "> " prompt
  at::Command current;                     // as sent (rewritten to modem ids)
  bool init = false;
};

Mediator::Job Mediator::answer_job(std::string final_text) {
  Job job;
  job.final_text = std::move(final_text);
  return job;
}

// The persona's virtual modem: its parser and the settings it believes the modem has.
struct Mediator::Session {
  at::CommandStream stream;
  bool echo = true;
  ErrorFormat cmee = ErrorFormat::kPlain;
  std::uint32_t cmgf = 0;  // 27.005 default: PDU mode
  bool clip = false;
  bool creg = false;
  std::array<std::uint8_t, kSRegisters> s{};
  std::optional<at::CommandLine> last_line;  // for A/
  std::optional<Job> pending_sms;            // waiting for its body
  std::size_t outstanding = 0;               // jobs queued or in flight
  std::optional<Clock::time_point> partial_since;

  Session() { reset(); }
  void reset() {
    echo = true;
    cmee = ErrorFormat::kPlain;
    cmgf = 0;
    clip = false;
    creg = false;
    s.fill(0);
    s[3] = '\r';
    s[4] = '\n';
    s[5] = '\b';
    stream.set_config({static_cast<char>(s[3]), static_cast<char>(s[5])});
  }
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
  at::Command storage = action_command("+CPBS");
  storage.form = at::CommandForm::kSet;
  storage.params = {at::Parameter::of_string("SM")};
  job.commands = {basic_set("E", 0),         basic_set("V", 1),          set_command("+CMEE", 1),
                  set_command("+CLIP", 1),   set_command("+CREG", 1),    set_command("+CDIP", 1),
                  std::move(storage)};
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
    if (session.echo) personas_.to_persona(persona, line->raw + static_cast<char>(session.s[3]));
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
  bool local_error = false;
  for (const at::Command& command : line.commands) {
    const Classification c = classify(command);
    if (c.handling != Handling::kLocal) {
      if (needs_text_mode_choice(command)) {
        // The physical modem's SMS mode is shared: each persona's mode travels with its
        // own SMS commands.
        job.commands.push_back(set_command("+CMGF", session.cmgf));
      }
      if (command.name == "+CUSD") urcs_.note_ussd(persona);
      job.commands.push_back(command);
      continue;
    }
    const std::uint32_t value = command.params.empty() ? 0 : command.params[0].number;
    if (command.kind == at::CommandKind::kSRegister) {
      const auto index = static_cast<std::size_t>(std::stoul(command.name.substr(1)));
      if (command.form == at::CommandForm::kRead) {
        std::string v = std::to_string(session.s[index]);
        job.prefix_output += "\r\n" + std::string(3 - std::min<std::size_t>(3, v.size()), '0') + v + "\r\n";
      } else if (command.form == at::CommandForm::kSet && value <= 127) {
        session.s[index] = static_cast<std::uint8_t>(value);
        session.stream.set_config({static_cast<char>(session.s[3]), static_cast<char>(session.s[5])});
      } else if (command.form == at::CommandForm::kSet) {
        local_error = true;
      }
    } else if (command.name == "E") {
      session.echo = value != 0;
    } else if (command.name == "V" || command.name == "Q") {
      // Numeric (V0) and quiet (Q1) results are not offered: the mediator speaks V1 Q0.
      local_error = local_error || (command.name == "V" ? value != 1 : value != 0);
    } else if (command.name == "Z" || command.name == "&F") {
      session.reset();
    } else if (command.name == "+CMEE") {
      if (command.form == at::CommandForm::kSet && value <= 2) {
        session.cmee = static_cast<ErrorFormat>(value);
      } else if (command.form == at::CommandForm::kRead) {
        job.prefix_output += "\r\n+CMEE: " + std::to_string(static_cast<int>(session.cmee)) + "\r\n";
      } else if (command.form == at::CommandForm::kTest) {
        job.prefix_output += "\r\n+CMEE: (0-2)\r\n";
      } else {
        local_error = true;
      }
    } else if (command.name == "+CMGF") {
      if (value <= 1) {
        session.cmgf = value;
      } else {
        local_error = true;
      }
    } else if (command.name == "+CLIP") {
      session.clip = value != 0;
    } else if (command.name == "+CREG") {
      session.creg = value != 0;
    } else if (command.name == "+CPBS") {
      if (command.form == at::CommandForm::kRead) {
        job.prefix_output += "\r\n+CPBS: \"SM\"\r\n";
      } else if (command.form == at::CommandForm::kTest) {
        job.prefix_output += "\r\n+CPBS: (\"SM\")\r\n";
      } else if (command.params.empty() || !command.params[0].is_string() || command.params[0].text != "SM") {
        local_error = true;
      }
    }
    // +CNMI, +CRC, +CGREG, +CEREG set forms: accepted; the physical modem keeps dom0's.
  }
  if (local_error) {
    job.commands.clear();
    job.final_text = std::string(kError);
  }
  if (!job.commands.empty() && is_sms_send(job.commands.back())) {
    const at::Command& send = job.commands.back();
    if (session.cmgf == 0) {
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
  if (job.commands.empty() && !job.final_text) job.final_text = std::string(kOk);
  submit(persona, std::move(job), now);
}

void Mediator::submit(PersonaIndex persona, Job job, Clock::time_point now) {
  Session& session = *sessions_[persona];
  job.persona = persona;
  if (job.commands.empty() && session.outstanding == 0) {
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
    if (job->persona) personas_.to_persona(*job->persona, job->prefix_output);
    if (job->commands.empty()) {
      finish_job(job->final_text.value_or(std::string(kOk)), now);
      continue;
    }
    send_current(now);
  }
}

void Mediator::send_current(Clock::time_point now) {
  Job& job = *arbiter_->in_flight();
  const at::Command& command = job.commands[job.next];
  if (job.persona) {
    Rewritten rewritten = PhonebookFilter::handles(command) ? phonebook_.rewrite(*job.persona, command)
                                                            : state_.rewrite(*job.persona, command);
    if (auto* error = std::get_if<LocalError>(&rewritten)) {
      if (error->result == kOk && job.next + 1 < job.commands.size()) {
        // Answered locally (e.g. a phonebook read with no own entries): go on with the line.
        ++job.next;
        send_current(now);
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
  arbiter_->extend(now + config_.command_timeout);
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
      } else if (PhonebookFilter::handles(job->current)) {
        if (auto text = phonebook_.filter_information(*job->persona, line)) say(*job->persona, *text);
      } else if (auto text = state_.filter_information(*job->persona, line)) {
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
    const Session& s = *sessions_[d.persona];
    // Each persona's own +CLIP/+CREG setting; the physical modem has both on for everyone.
    if (d.text.starts_with("+CLIP:") && !s.clip) continue;
    if (d.text.starts_with("+CREG:") && !s.creg) continue;
    say(d.persona, d.text);
  }
}

void Mediator::route_urc(const at::ResponseLine& line, Clock::time_point now) {
  deliver(urcs_.route(line, foreground_, IncomingContext{config_.sim_slot, std::nullopt}));
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
  if ((ok || job.init) && job.next + 1 < job.commands.size()) {
    ++job.next;
    send_current(now);
    return;
  }
  finish_job(job.persona ? std::optional(persona_final(*job.persona, result)) : std::nullopt, now);
}

std::string Mediator::error_for(PersonaIndex persona, const std::string& cme_text) const {
  constexpr std::string_view kNotAllowed = "+CME ERROR: 3";
  if (cme_text == kNotAllowed) return refusal_result(RefusalReason::kReservedToDom0, sessions_[persona]->cmee);
  // Other local +CME errors (an invalid phonebook index) follow the persona's +CMEE too;
  // +CMS errors are numeric in every mode.
  if (cme_text.starts_with("+CME ERROR:") && sessions_[persona]->cmee == ErrorFormat::kPlain) return std::string(kError);
  return cme_text;
}

std::string Mediator::persona_final(PersonaIndex persona, const at::FinalResult& result) const {
  const bool cme = result.code == at::FinalCode::kCmeError;
  if (cme && sessions_[persona]->cmee == ErrorFormat::kPlain) return std::string(kError);
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
  job.commands = {action_command("+CLCC")};
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
  submit(persona, answer_job(refusal_result(refusal.reason, sessions_[persona]->cmee)), now);
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
