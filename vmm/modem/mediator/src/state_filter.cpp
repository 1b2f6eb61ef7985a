#include "twofold/modem/mediator/state_filter.h"

#include <algorithm>

namespace twofold::modem::mediator {
namespace {

// 27.005 §3.2.5: invalid memory index.
constexpr std::string_view kInvalidIndex = "+CMS ERROR: 321";
// 27.007 §9.2.1: operation not allowed.
constexpr std::string_view kNotAllowed = "+CME ERROR: 3";
constexpr std::string_view kNoCarrier = "NO CARRIER";
constexpr std::string_view kOk = "OK";

constexpr std::uint32_t kDirectionIncoming = 1;  // +CLCC <dir>
constexpr std::uint32_t kStateIncoming = 4;      // +CLCC <stat>
constexpr std::uint32_t kStateWaiting = 5;

LocalError error(std::string_view text) { return LocalError{std::string(text)}; }

}  // namespace

std::string format_response(const std::string& name, const std::vector<at::Parameter>& fields) {
  std::string out = name;
  out += ": ";
  for (std::size_t i = 0; i < fields.size(); ++i) {
    if (i != 0) out += ',';
    const at::Parameter& f = fields[i];
    switch (f.type) {
      case at::Parameter::Type::kEmpty: break;
      case at::Parameter::Type::kNumber: out += std::to_string(f.number); break;
      case at::Parameter::Type::kString: out += at::quote_string(f.text); break;
      case at::Parameter::Type::kToken: out += f.text; break;
    }
  }
  return out;
}

StateFilter::StateFilter(std::size_t persona_count)
    : persona_count_(persona_count),
      calls_(persona_count, kMaxVisibleCalls), messages_(persona_count, kMaxVisibleMessages) {}

std::optional<PersonaIndex> StateFilter::voice_holder() const {
  for (PersonaIndex p = 0; p < persona_count_; ++p) {
    if (!calls_.owned_by(p).empty()) return p;
  }
  if (incoming_owner_) return incoming_owner_;
  return dialling_;
}

Rewritten StateFilter::rewrite(PersonaIndex persona, const at::Command& command) const {
  const std::optional<PersonaIndex> holder = voice_holder();
  const bool holds = holder == persona;
  if (command.kind == at::CommandKind::kBasic && command.name == "A") {
    // V.250 §6.3.5: no incoming call to answer is NO CARRIER, whoever else is on the line.
    if (incoming_owner_ != persona) return error(kNoCarrier);
    return command;
  }
  if ((command.kind == at::CommandKind::kBasic && command.name == "H") || command.name == "+CHUP") {
    // Hanging up with no call of one's own is a no-op: OK, and the other persona's calls
    // are not touched. While the persona holds the channel every call on it is its own.
    if (!holds) return error(kOk);
    return command;
  }
  if (command.kind == at::CommandKind::kDial) {
    if (holder && !holds) return error(kNoCarrier);
    return command;
  }
  if (command.name == "+VTS" && command.form == at::CommandForm::kSet) {
    // DTMF goes into the active call: only into one of the persona's own.
    if (!holds || calls_.owned_by(persona).empty()) return error(kNotAllowed);
    return command;
  }
  if (command.form != at::CommandForm::kSet) return command;
  if (command.name == "+CMGR" || command.name == "+CMGD") return rewrite_index(persona, command);
  if (command.name == "+CHLD") return rewrite_chld(persona, command);
  return command;
}

Rewritten StateFilter::rewrite_index(PersonaIndex persona, const at::Command& command) const {
  if (command.params.empty() || !command.params[0].is_number()) return error(kInvalidIndex);
  const auto physical = messages_.physical_id(persona, command.params[0].number);
  if (!physical) return error(kInvalidIndex);
  at::Command out = command;
  out.params[0] = at::Parameter::of_number(*physical);
  return out;
}

Rewritten StateFilter::rewrite_chld(PersonaIndex persona, const at::Command& command) const {
  // 27.007 §7.13: <n> is 0..4 alone (acts on all held/waiting/active calls) or 1x / 2x
  // (release / keep only call x).
  if (command.params.size() != 1 || !command.params[0].is_number()) return error(kNotAllowed);
  const std::uint32_t n = command.params[0].number;
  if (n >= 10 && n <= 29) {
    const auto physical = calls_.physical_id(persona, n % 10);
    if (!physical || *physical > 9) return error(kNotAllowed);
    at::Command out = command;
    out.params[0] = at::Parameter::of_number((n / 10) * 10 + *physical);
    return out;
  }
  if (n <= 4 && voice_holder() == persona && !calls_.owned_by_other(persona)) return command;
  return error(kNotAllowed);
}

void StateFilter::observe_call_line(const at::ResponseLine& line) {
  if (line.name != "+CLCC" || !line.fields_valid || line.fields.size() < 2 || !line.fields[0].is_number() ||
      !line.fields[1].is_number()) {
    return;
  }
  const std::uint32_t id = line.fields[0].number;
  listed_calls_.push_back(id);
  if (line.fields.size() > 2 && line.fields[2].is_number() &&
      (line.fields[2].number == kStateIncoming || line.fields[2].number == kStateWaiting)) {
    ringing_listed_ = true;
  }
  if (calls_.owner(id)) return;
  const bool incoming = line.fields[1].number == kDirectionIncoming;
  const std::optional<PersonaIndex> adopter = incoming ? incoming_owner_ : dialling_;
  if (adopter && calls_.claim(*adopter, id) && !incoming) dialling_.reset();
}

std::optional<std::string> StateFilter::filter_information(PersonaIndex persona, const at::ResponseLine& line) {
  if (line.name == "+CLCC") {
    observe_call_line(line);
    if (!line.fields_valid || line.fields.empty() || !line.fields[0].is_number()) return std::nullopt;
    const auto visible = calls_.visible_id(persona, line.fields[0].number);
    if (!visible) return std::nullopt;
    auto fields = line.fields;
    fields[0] = at::Parameter::of_number(*visible);
    return format_response(line.name, fields);
  }
  if (line.name == "+CMGL" || line.name == "+CMGW") {
    if (!line.fields_valid || line.fields.empty() || !line.fields[0].is_number()) return std::nullopt;
    const std::uint32_t physical = line.fields[0].number;
    std::optional<std::uint32_t> visible = messages_.visible_id(persona, physical);
    // A message the persona just wrote is its own.
    if (!visible && line.name == "+CMGW" && !messages_.owner(physical)) {
      visible = claim_message(persona, physical);
      if (visible) message_status_[physical] = 2;  // STO UNSENT
    }
    if (!visible) return std::nullopt;
    auto fields = line.fields;
    fields[0] = at::Parameter::of_number(*visible);
    std::string out = format_response(line.name, fields);
    if (line.body) out += "\r\n" + *line.body;
    return out;
  }
  std::string out = line.raw;
  if (line.body) out += "\r\n" + *line.body;
  return out;
}

void StateFilter::on_final(PersonaIndex persona, const at::Command& command, const at::FinalResult& result) {
  const bool ok = result.code == at::FinalCode::kOk;
  if (command.name == "+CLCC" && command.form == at::CommandForm::kAction) {
    if (ok) {
      // A call that is no longer listed has ended: its id may be reused by the modem.
      for (PersonaIndex p = 0; p < persona_count_; ++p) {
        for (std::uint32_t id : calls_.owned_by(p)) {
          if (std::find(listed_calls_.begin(), listed_calls_.end(), id) == listed_calls_.end()) calls_.release(id);
        }
      }
      // No call is ringing any more: the next incoming call is routed afresh.
      if (!ringing_listed_) incoming_owner_.reset();
    }
    ringing_listed_ = false;
    listed_calls_.clear();
    return;
  }
  if (command.kind == at::CommandKind::kDial && !ok) {
    if (dialling_ == persona) dialling_.reset();
    return;
  }
  if (command.name == "+CMGD" && command.form == at::CommandForm::kSet && ok && !command.params.empty() &&
      command.params[0].is_number()) {
    // `command` is the rewritten one: its index is the modem's.
    messages_.release(command.params[0].number);
    message_status_.erase(command.params[0].number);
  }
}

std::optional<std::uint32_t> StateFilter::claim_message(PersonaIndex persona, std::uint32_t physical_index) {
  if (auto existing = messages_.visible_id(persona, physical_index)) return existing;
  // A persona's storage is its quota, not the SIM's free space: what the other persona
  // stores never changes what this one can store or what its +CPMS says.
  if (messages_.owned_by(persona).size() >= quota_) return std::nullopt;
  return messages_.claim(persona, physical_index);
}

void StateFilter::set_message_status(std::uint32_t physical_index, std::uint32_t status) {
  if (status <= 3) message_status_[physical_index] = status;
}

std::uint32_t StateFilter::message_status(std::uint32_t physical_index) const {
  const auto it = message_status_.find(physical_index);
  return it == message_status_.end() ? 0 : it->second;
}

std::vector<std::pair<std::uint32_t, std::uint32_t>> StateFilter::own_messages(PersonaIndex persona) const {
  std::vector<std::pair<std::uint32_t, std::uint32_t>> out;
  for (std::uint32_t physical : messages_.owned_by(persona)) {
    if (auto visible = messages_.visible_id(persona, physical)) out.emplace_back(*visible, physical);
  }
  std::sort(out.begin(), out.end());
  return out;
}

void StateFilter::forget_calls() {
  calls_.clear();
  incoming_owner_.reset();
  dialling_.reset();
  listed_calls_.clear();
  ringing_listed_ = false;
}

}  // namespace twofold::modem::mediator
