#include "twofold/modem/mediator/phonebook_filter.h"

#include <algorithm>
#include <charconv>
#include <vector>

namespace twofold::modem::mediator {
namespace {

constexpr std::string_view kInvalidIndex = "+CME ERROR: 21";  // 27.007 §9.2.1
// "Answered locally with no entries": the job ends with this final and nothing is sent.
constexpr std::string_view kLocalOk = "OK";

std::optional<std::uint32_t> index_param(const at::Command& command, std::size_t i) {
  if (command.params.size() <= i || !command.params[i].is_number()) return std::nullopt;
  return command.params[i].number;
}

bool valid_visible(std::uint32_t index) { return index >= 1 && index <= kMaxVisiblePhonebookEntries; }

}  // namespace

PhonebookFilter::PhonebookFilter(std::size_t persona_count) : entries_(persona_count, kMaxVisiblePhonebookEntries) {}

bool PhonebookFilter::handles(const at::Command& command) {
  return command.kind == at::CommandKind::kExtended &&
         (command.name == "+CPBR" || command.name == "+CPBW" || command.name == "+CPBF");
}

Rewritten PhonebookFilter::rewrite(PersonaIndex persona, const at::Command& command) {
  form_ = command.form;
  write_.reset();
  delete_physical_.reset();
  if (command.form != at::CommandForm::kSet || command.name == "+CPBF") return command;
  at::Command out = command;
  if (command.name == "+CPBR") {
    const auto first = index_param(command, 0);
    const auto last = command.params.size() > 1 ? index_param(command, 1) : first;
    if (!first || !last || !valid_visible(*first) || !valid_visible(*last) || *last < *first) {
      return LocalError{std::string(kInvalidIndex)};
    }
    std::vector<std::uint32_t> physical;
    for (std::uint32_t id : entries_.owned_by(persona)) {
      const auto visible = entries_.visible_id(persona, id);
      if (visible && *visible >= *first && *visible <= *last) physical.push_back(id);
    }
    if (physical.empty()) return LocalError{std::string(kLocalOk)};
    read_first_ = *first;
    read_last_ = *last;
    const auto [low, high] = std::minmax_element(physical.begin(), physical.end());
    out.params = {at::Parameter::of_number(*low), at::Parameter::of_number(*high)};
    return out;
  }
  // +CPBW=[<index>][,<number>[,<type>[,<text>]]]
  if (command.params.empty()) return LocalError{std::string(kInvalidIndex)};
  const bool deleting = command.params.size() == 1;
  if (command.params[0].is_empty()) {
    if (deleting) return LocalError{std::string(kInvalidIndex)};
    write_ = PendingWrite{std::nullopt, true};
    return out;
  }
  const auto visible = index_param(command, 0);
  if (!visible || !valid_visible(*visible)) return LocalError{std::string(kInvalidIndex)};
  const auto physical = entries_.physical_id(persona, *visible);
  if (deleting) {
    if (!physical) return LocalError{std::string(kLocalOk)};  // already empty for this persona
    delete_physical_ = *physical;
    out.params[0] = at::Parameter::of_number(*physical);
    return out;
  }
  if (physical) {
    out.params[0] = at::Parameter::of_number(*physical);  // overwrites its own entry
    return out;
  }
  // A new entry: the modem picks a free slot, never one the persona could name.
  write_ = PendingWrite{*visible, false};
  out.params[0] = at::Parameter::empty();
  return out;
}

std::optional<std::string> PhonebookFilter::rewrite_range(const at::ResponseLine& line) const {
  // "+CPBR: (1-250),40,18": the persona's index range, with the modem's length limits.
  if (!line.fields_valid || line.fields.empty()) return std::nullopt;
  const std::string& range = line.fields[0].text;
  std::uint32_t physical_max = kMaxVisiblePhonebookEntries;
  if (const auto dash = range.find('-'); dash != std::string::npos) {
    std::uint32_t parsed = 0;
    const auto [end, error] = std::from_chars(range.data() + dash + 1, range.data() + range.size(), parsed);
    if (error == std::errc() && end != range.data() + dash + 1) physical_max = parsed;
  }
  auto fields = line.fields;
  fields[0] = at::Parameter::of_token("(1-" + std::to_string(std::clamp<std::uint32_t>(physical_max, 1, kMaxVisiblePhonebookEntries)) + ")");
  return format_response(line.name, fields);
}

std::optional<std::string> PhonebookFilter::filter_information(PersonaIndex persona, const at::ResponseLine& line) {
  if (form_ == at::CommandForm::kTest) {
    if (line.name == "+CPBR" || line.name == "+CPBW") return rewrite_range(line);
    return line.raw;  // +CPBF: <nlength>,<tlength>
  }
  if (!line.fields_valid || line.fields.empty() || !line.fields[0].is_number()) return std::nullopt;
  const std::uint32_t physical = line.fields[0].number;
  if (line.name == "+CPBW") {
    if (!write_ || entries_.owner(physical)) return std::nullopt;
    const auto visible = write_->visible ? entries_.claim_as(persona, physical, *write_->visible)
                                         : entries_.claim(persona, physical);
    const bool report = write_->report;
    write_.reset();
    if (!visible || !report) return std::nullopt;
    return format_response(line.name, {at::Parameter::of_number(*visible)});
  }
  if (line.name != "+CPBR" && line.name != "+CPBF") return std::nullopt;
  const auto visible = entries_.visible_id(persona, physical);
  if (!visible) return std::nullopt;
  if (line.name == "+CPBR" && (*visible < read_first_ || *visible > read_last_)) return std::nullopt;
  auto fields = line.fields;
  fields[0] = at::Parameter::of_number(*visible);
  return format_response(line.name, fields);
}

void PhonebookFilter::on_final(PersonaIndex, const at::FinalResult& result) {
  if (result.code == at::FinalCode::kOk && delete_physical_) entries_.release(*delete_physical_);
  // A write whose index the modem did not report stays unowned: shown to nobody.
  write_.reset();
  delete_physical_.reset();
}

}  // namespace twofold::modem::mediator
