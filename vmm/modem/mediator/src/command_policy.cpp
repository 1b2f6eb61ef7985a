#include "twofold/modem/mediator/command_policy.h"

#include <algorithm>
#include <array>

namespace twofold::modem::mediator {
namespace {

using policy::AtFamily;
using at::CommandForm;
using at::CommandKind;

struct ExtendedEntry {
  std::string_view name;
  AtFamily family;
  // The set form changes the modem for every persona: reserved to dom0 (reads still go).
  bool set_reserved;
  // Configuration of what the persona's own virtual modem reports (URC levels, SMS mode):
  // the set form is kept per persona by the mediator, the physical modem is configured by
  // dom0 once.
  bool set_local;
};

// docs/policy.md lists the families; +CMGW, +CPMS, +CGREG, +CFUN and +CSCS are placed
// where they belong so that no forwarded command is outside the table.
constexpr std::array kExtended = {
    ExtendedEntry{"+CHUP", AtFamily::call, false, false},
    ExtendedEntry{"+CHLD", AtFamily::call, false, false},
    ExtendedEntry{"+CLCC", AtFamily::call, false, false},
    ExtendedEntry{"+VTS", AtFamily::call, false, false},
    ExtendedEntry{"+CRC", AtFamily::call, false, true},
    ExtendedEntry{"+CMGS", AtFamily::sms, false, false},
    ExtendedEntry{"+CMGW", AtFamily::sms, false, false},
    ExtendedEntry{"+CMGR", AtFamily::sms, false, false},
    ExtendedEntry{"+CMGL", AtFamily::sms, false, false},
    ExtendedEntry{"+CMGD", AtFamily::sms, false, false},
    ExtendedEntry{"+CMGF", AtFamily::sms, false, true},
    ExtendedEntry{"+CNMI", AtFamily::sms, false, true},
    ExtendedEntry{"+CSCA", AtFamily::sms, true, false},
    ExtendedEntry{"+CPMS", AtFamily::sms, true, false},
    ExtendedEntry{"+COPS", AtFamily::network, true, false},
    ExtendedEntry{"+CREG", AtFamily::network, false, true},
    ExtendedEntry{"+CGREG", AtFamily::network, false, true},
    ExtendedEntry{"+CEREG", AtFamily::network, false, true},
    ExtendedEntry{"+CSQ", AtFamily::network, false, false},
    ExtendedEntry{"+CFUN", AtFamily::network, true, false},
    ExtendedEntry{"+CGDCONT", AtFamily::data, false, false},
    ExtendedEntry{"+CGACT", AtFamily::data, false, false},
    ExtendedEntry{"+CGATT", AtFamily::data, false, false},
    ExtendedEntry{"+CGDATA", AtFamily::data, false, false},
    ExtendedEntry{"+CGPADDR", AtFamily::data, false, false},
    ExtendedEntry{"+CPIN", AtFamily::sim, true, false},
    ExtendedEntry{"+CIMI", AtFamily::sim, false, false},
    ExtendedEntry{"+CCID", AtFamily::sim, false, false},
    ExtendedEntry{"+CRSM", AtFamily::sim, false, false},
    ExtendedEntry{"+CCFC", AtFamily::supplementary, false, false},
    ExtendedEntry{"+CCWA", AtFamily::supplementary, false, false},
    ExtendedEntry{"+CLIP", AtFamily::supplementary, false, true},
    ExtendedEntry{"+CLIR", AtFamily::supplementary, false, false},
    ExtendedEntry{"+COLP", AtFamily::supplementary, false, false},
    ExtendedEntry{"+CUSD", AtFamily::supplementary, false, false},
    ExtendedEntry{"+CPBS", AtFamily::phonebook, false, false},
    ExtendedEntry{"+CPBR", AtFamily::phonebook, false, false},
    ExtendedEntry{"+CPBW", AtFamily::phonebook, false, false},
    ExtendedEntry{"+CPBF", AtFamily::phonebook, false, false},
    ExtendedEntry{"+CGMI", AtFamily::info, false, false},
    ExtendedEntry{"+CGMM", AtFamily::info, false, false},
    ExtendedEntry{"+CGMR", AtFamily::info, false, false},
    ExtendedEntry{"+CGSN", AtFamily::info, false, false},
    ExtendedEntry{"+CSCS", AtFamily::info, true, false},
};

// S-registers a persona may set on its own virtual modem: line terminator, response
// formatting and backspace only touch the persona's own byte stream.
constexpr std::array<std::string_view, 3> kLocalSRegisters = {"S3", "S4", "S5"};

// 27.007 §8.18 +CRSM <command>: these write SIM files shared by both personas.
constexpr std::array<std::uint32_t, 2> kCrsmWrites = {214 /* UPDATE BINARY */, 220 /* UPDATE RECORD */};

constexpr Classification forward(AtFamily family) { return {Handling::kForward, family}; }
constexpr Classification local() { return {Handling::kLocal, std::nullopt}; }
constexpr Classification reserved() { return {Handling::kDom0Only, std::nullopt}; }
constexpr Classification unknown() { return {Handling::kUnknown, std::nullopt}; }

Classification classify_basic(const at::Command& command) {
  const std::string& name = command.name;
  if (name == "A" || name == "H") return forward(AtFamily::call);
  if (name == "I") return forward(AtFamily::info);
  // Echo, verbose and quiet modes and the resets act on the persona's virtual modem only;
  // the physical modem stays in E0 V1 Q0 under dom0's control.
  if (name == "E" || name == "V" || name == "Q" || name == "Z" || name == "&F") return local();
  // Stored profiles are the physical modem's power-on settings for everyone.
  if (name == "&W" || name == "&Y") return reserved();
  return unknown();
}

Classification classify_extended(const at::Command& command) {
  if (command.name.empty() || command.name.front() != '+') {
    // Vendor commands (^ % $ # *): firmware update, debug and radio configuration live
    // here, and none is needed by a persona.
    return reserved();
  }
  if (command.name == "+CMEE") return local();
  // The phonebook storage stays "SM" for everyone: "LD"/"MC"/"RC" would list the other
  // persona's calls, and a persona's choice would change what the other one reads.
  if (command.name == "+CPBS") return {Handling::kLocal, AtFamily::phonebook};
  const auto* entry = std::find_if(kExtended.begin(), kExtended.end(),
                                   [&](const ExtendedEntry& e) { return e.name == command.name; });
  if (entry == kExtended.end()) return unknown();
  if (command.form == CommandForm::kSet) {
    if (entry->set_reserved) return reserved();
    if (entry->set_local) return {Handling::kLocal, entry->family};
  }
  if (command.name == "+CMGD" && command.form == CommandForm::kSet && command.params.size() > 1 &&
      !(command.params[1].is_number() && command.params[1].number == 0)) {
    // <delflag> 1..4 deletes by status across the whole storage, the other persona's too.
    return reserved();
  }
  if (command.name == "+CRSM" && command.form == CommandForm::kSet && !command.params.empty() &&
      command.params[0].is_number() &&
      std::find(kCrsmWrites.begin(), kCrsmWrites.end(), command.params[0].number) != kCrsmWrites.end()) {
    return reserved();
  }
  return forward(entry->family);
}

}  // namespace

std::optional<PersonaRights> PersonaRights::from_policy(const policy::Persona& persona) {
  if (!persona.modem) return std::nullopt;
  std::optional<std::uint32_t> sms_per_hour;
  if (persona.modem->sms_per_hour) sms_per_hour = persona.modem->sms_per_hour->value;
  return PersonaRights{persona.name.value, persona.modem->at_families.value, persona.modem->dial.value,
                       persona.modem->answer.value, sms_per_hour};
}

Classification classify(const at::Command& command) {
  switch (command.kind) {
    case CommandKind::kDial:
      // A voice call, or a circuit-switched data call without the trailing ';'.
      return forward(command.dial.voice ? AtFamily::call : AtFamily::data);
    case CommandKind::kBasic:
      return classify_basic(command);
    case CommandKind::kSRegister:
      if (command.form == CommandForm::kRead || command.form == CommandForm::kTest) return local();
      if (std::find(kLocalSRegisters.begin(), kLocalSRegisters.end(), command.name) != kLocalSRegisters.end()) {
        return local();
      }
      // S0 (auto-answer), S6-S12 (dial timing, carrier): they change the line for everyone.
      return reserved();
    case CommandKind::kExtended:
      return classify_extended(command);
  }
  return unknown();
}

std::string_view to_string(RefusalReason reason) noexcept {
  switch (reason) {
    case RefusalReason::kUnknownCommand: return "unknown-command";
    case RefusalReason::kReservedToDom0: return "reserved-to-dom0";
    case RefusalReason::kFamilyNotAllowed: return "family-not-allowed";
    case RefusalReason::kDialNotAllowed: return "dial-not-allowed";
    case RefusalReason::kAnswerNotAllowed: return "answer-not-allowed";
    case RefusalReason::kSmsBudgetExhausted: return "sms-budget-exhausted";
  }
  return "unknown";
}

std::optional<Refusal> CommandPolicy::decide(const at::Command& command) const {
  const Classification c = classify(command);
  switch (c.handling) {
    case Handling::kUnknown: return Refusal{RefusalReason::kUnknownCommand, 0, std::nullopt};
    case Handling::kDom0Only: return Refusal{RefusalReason::kReservedToDom0, 0, std::nullopt};
    case Handling::kLocal:
    case Handling::kForward: break;
  }
  if (c.family && rights_.families.count(*c.family) == 0) {
    return Refusal{RefusalReason::kFamilyNotAllowed, 0, c.family};
  }
  if (command.kind == CommandKind::kDial && !rights_.dial) {
    return Refusal{RefusalReason::kDialNotAllowed, 0, c.family};
  }
  if (command.kind == CommandKind::kBasic && command.name == "A" && !rights_.answer) {
    return Refusal{RefusalReason::kAnswerNotAllowed, 0, c.family};
  }
  return std::nullopt;
}

LineVerdict CommandPolicy::decide(const at::CommandLine& line) const {
  LineVerdict verdict;
  verdict.all_local = true;
  for (std::size_t i = 0; i < line.commands.size(); ++i) {
    if (auto refusal = decide(line.commands[i])) {
      refusal->command_index = i;
      verdict.refusal = refusal;
      verdict.all_local = false;
      return verdict;
    }
    if (classify(line.commands[i]).handling == Handling::kForward) verdict.all_local = false;
  }
  return verdict;
}

std::string refusal_result(RefusalReason reason, ErrorFormat format) {
  if (reason == RefusalReason::kSmsBudgetExhausted) {
    // 27.005 §3.2.5: an SMS command's errors are +CMS ERROR; 302 is "operation not allowed".
    switch (format) {
      case ErrorFormat::kPlain: return "ERROR";
      case ErrorFormat::kNumeric: return "+CMS ERROR: 302";
      case ErrorFormat::kVerbose: return "+CMS ERROR: operation not allowed";
    }
  }
  if (reason == RefusalReason::kUnknownCommand) {
    switch (format) {
      case ErrorFormat::kPlain: return "ERROR";
      case ErrorFormat::kNumeric: return "+CME ERROR: 4";
      case ErrorFormat::kVerbose: return "+CME ERROR: operation not supported";
    }
  }
  switch (format) {
    case ErrorFormat::kPlain: return "ERROR";
    case ErrorFormat::kNumeric: return "+CME ERROR: 3";
    case ErrorFormat::kVerbose: return "+CME ERROR: operation not allowed";
  }
  return "ERROR";
}

}  // namespace twofold::modem::mediator
