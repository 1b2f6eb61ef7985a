#include "twofold/modem/mediator/command_policy.h"

#include <algorithm>
#include <array>
#include <span>

namespace twofold::modem::mediator {
namespace {

using policy::AtFamily;
using at::CommandForm;
using at::CommandKind;

constexpr Handling F = Handling::kForward;
constexpr Handling L = Handling::kLocal;
constexpr Handling D = Handling::kDom0Only;
constexpr Handling R = Handling::kUnknown;

// The one table (issue 13). Columns: action, read, set, test. Basic commands use `action` and
// `set` (ATH and ATH0). Test forms of forwarded commands list the modem's static ranges,
// the same for both personas. docs/modem.md "Command classes" is this table in prose; a test
// (modem_mediator_policy_test, DocsTableMatchesTheCode) keeps the two equal.
constexpr std::array kTable = {
    // name        family                     action read set test  check
    CommandRow{"A", AtFamily::call, F, R, F, R, "only the persona the ringing call was routed to; else NO CARRIER"},
    CommandRow{"H", AtFamily::call, F, R, F, R, "sent only while the persona holds the voice channel (every call on it is then its own); else OK, nothing sent"},
    CommandRow{"D", AtFamily::call, F, R, R, R, "voice only; MMI codes (* #) and data calls dom0-only; the other persona's call: NO CARRIER"},
    CommandRow{"I", AtFamily::info, F, R, F, R, "modem identity, the same for both"},
    CommandRow{"E", std::nullopt, L, R, L, R, "echo of the persona's own stream"},
    CommandRow{"V", std::nullopt, L, R, L, R, "V1 only (the mediator speaks V1)"},
    CommandRow{"Q", std::nullopt, L, R, L, R, "Q0 only"},
    CommandRow{"Z", std::nullopt, L, R, L, R, "resets the persona's virtual modem"},
    CommandRow{"&F", std::nullopt, L, R, L, R, "resets the persona's virtual modem"},
    CommandRow{"&W", std::nullopt, D, D, D, D, "stored profile of the physical modem"},
    CommandRow{"&Y", std::nullopt, D, D, D, D, "power-on profile of the physical modem"},
    CommandRow{"S3", std::nullopt, R, L, L, L, "line terminator of the persona's stream"},
    CommandRow{"S4", std::nullopt, R, L, L, L, "response formatting of the persona's stream"},
    CommandRow{"S5", std::nullopt, R, L, L, L, "backspace of the persona's stream"},
    CommandRow{"S", std::nullopt, R, L, D, L, "other S-registers: read from the persona's copy; writes change the line for everyone"},
    CommandRow{"+CMEE", std::nullopt, R, L, L, L, "the persona's error format"},
    CommandRow{"+CHUP", AtFamily::call, F, R, R, F, "as ATH"},
    CommandRow{"+CHLD", AtFamily::call, R, R, F, F, "1x/2x on the persona's own call ids; 0-4 only while it holds the voice channel; else +CME ERROR: 3"},
    CommandRow{"+CLCC", AtFamily::call, F, R, R, F, "listing filtered to the persona's own calls, ids renumbered"},
    CommandRow{"+VTS", AtFamily::call, R, R, F, F, "DTMF only into the persona's own active call; else +CME ERROR: 3"},
    CommandRow{"+CRC", AtFamily::call, R, L, L, L, "the persona's RING format"},
    CommandRow{"+CMGS", AtFamily::sms, R, R, F, F, "sent; +CMGS: <mr> from the persona's own reference counter"},
    CommandRow{"+CMGW", AtFamily::sms, F, R, F, F, "stored, the slot becomes the persona's (within its quota)"},
    CommandRow{"+CMGR", AtFamily::sms, R, R, F, F, "the persona's own index only"},
    CommandRow{"+CMGL", AtFamily::sms, F, R, F, F, "the persona's own messages only (read one by one: others stay unread)"},
    CommandRow{"+CMGD", AtFamily::sms, R, R, F, F, "the persona's own index only; <delflag> 1-4 dom0-only"},
    CommandRow{"+CMGF", AtFamily::sms, R, L, L, L, "the persona's own mode, sent in front of each of its SMS commands"},
    CommandRow{"+CNMI", AtFamily::sms, R, L, L, L, "the persona's own setting"},
    CommandRow{"+CPMS", AtFamily::sms, R, L, L, L, "the persona's own storage: its used count and its quota"},
    CommandRow{"+CSCA", AtFamily::sms, R, F, D, F, "service centre: set by dom0 only"},
    CommandRow{"+COPS", AtFamily::network, R, F, D, D, "operator: selection and the slow scan (=?) are dom0's"},
    CommandRow{"+CREG", AtFamily::network, R, F, L, F, "n is the persona's own, the status the network's"},
    CommandRow{"+CGREG", AtFamily::network, R, F, L, F, "n is the persona's own"},
    CommandRow{"+CEREG", AtFamily::network, R, F, L, F, "n is the persona's own"},
    CommandRow{"+CSQ", AtFamily::network, F, R, R, F, "signal, the same for both"},
    CommandRow{"+CFUN", AtFamily::network, R, F, D, F, "radio on/off is dom0's"},
    CommandRow{"+CGDCONT", AtFamily::data, R, F, D, F, "contexts are set up by dom0"},
    CommandRow{"+CGACT", AtFamily::data, R, F, D, F, "activation is dom0's"},
    CommandRow{"+CGATT", AtFamily::data, R, F, D, F, "attach is dom0's"},
    CommandRow{"+CGDATA", AtFamily::data, D, D, D, D, "data mode would hold the one AT line"},
    CommandRow{"+CGPADDR", AtFamily::data, F, R, F, F, "addresses of dom0's contexts"},
    CommandRow{"+CPIN", AtFamily::sim, R, F, D, F, "the SIM's PIN is dom0's"},
    CommandRow{"+CIMI", AtFamily::sim, F, R, R, F, "subscriber identity, the same for both"},
    CommandRow{"+CCID", AtFamily::sim, F, R, R, F, "card identity, the same for both"},
    CommandRow{"+CRSM", AtFamily::sim, R, R, F, L, "allow-list: 192/176/242 of EF_ICCID, EF_AD, EF_SPN; everything else (EF_SMS, EF_ADN, EF_LND, writes) dom0-only"},
    CommandRow{"+CSIM", AtFamily::sim, D, D, D, D, "raw APDUs reach every SIM file"},
    CommandRow{"+CCFC", AtFamily::supplementary, D, D, D, D, "call forwarding of the shared subscription"},
    CommandRow{"+CCWA", AtFamily::supplementary, R, L, L, L, "the persona's own setting; waiting calls of the other persona never shown"},
    CommandRow{"+CLIP", AtFamily::supplementary, R, F, L, F, "n is the persona's own"},
    CommandRow{"+CLIR", AtFamily::supplementary, R, L, L, L, "the persona's own setting, applied to its dials (I/i)"},
    CommandRow{"+COLP", AtFamily::supplementary, R, L, L, L, "the persona's own setting"},
    CommandRow{"+CUSD", AtFamily::supplementary, D, D, D, D, "USSD sessions are network-wide, one at a time"},
    CommandRow{"+CPBS", AtFamily::phonebook, R, L, L, L, "always \"SM\""},
    CommandRow{"+CPBR", AtFamily::phonebook, R, R, F, F, "the persona's own entries, renumbered"},
    CommandRow{"+CPBW", AtFamily::phonebook, R, R, F, F, "the persona's own entries only"},
    CommandRow{"+CPBF", AtFamily::phonebook, R, R, F, F, "matches filtered to the persona's own"},
    CommandRow{"+CGMI", AtFamily::info, F, R, R, F, "modem identity"},
    CommandRow{"+CGMM", AtFamily::info, F, R, R, F, "modem identity"},
    CommandRow{"+CGMR", AtFamily::info, F, R, R, F, "modem identity"},
    CommandRow{"+CGSN", AtFamily::info, F, R, R, F, "modem identity"},
    CommandRow{"+CSCS", AtFamily::info, R, F, D, F, "character set: dom0's"},
};

// S-registers a persona may set on its own virtual modem: line terminator, response
// formatting and backspace only touch the persona's own byte stream.
constexpr std::array<std::string_view, 3> kLocalSRegisters = {"S3", "S4", "S5"};

constexpr std::uint32_t kCrsmGetResponse = 192, kCrsmReadBinary = 176, kCrsmStatus = 242;
// Files the same for both personas that reveal nothing of either's use: ICCID, administrative
// data, service provider name. EF_SMS (6F3C), EF_ADN (6F3A), EF_LND (6F44) are not here.
constexpr std::array<std::uint32_t, 3> kCrsmFiles = {0x2FE2, 0x6FAD, 0x6F46};

constexpr Classification with(Handling h, std::optional<AtFamily> family) { return {h, family}; }

const CommandRow* row_for(const at::Command& command) {
  std::string_view name = command.name;
  if (command.kind == CommandKind::kSRegister &&
      std::find(kLocalSRegisters.begin(), kLocalSRegisters.end(), name) == kLocalSRegisters.end()) {
    name = "S";
  }
  if (command.kind == CommandKind::kDial) name = "D";
  const auto* row = std::find_if(kTable.begin(), kTable.end(), [&](const CommandRow& r) { return r.name == name; });
  return row == kTable.end() ? nullptr : &*row;
}

Handling by_form(const CommandRow& row, CommandForm form) {
  switch (form) {
    case CommandForm::kAction: return row.action;
    case CommandForm::kRead: return row.read;
    case CommandForm::kSet: return row.set;
    case CommandForm::kTest: return row.test;
  }
  return Handling::kUnknown;
}

}  // namespace

std::span<const CommandRow> command_table() { return kTable; }

bool is_mmi_dial(const at::Command& command) {
  return command.kind == CommandKind::kDial && !command.dial.number.empty() &&
         (command.dial.number.front() == '*' || command.dial.number.front() == '#');
}

bool crsm_allowed(const at::Command& command) {
  if (command.name != "+CRSM" || command.form != CommandForm::kSet || command.params.size() < 2) return false;
  const at::Parameter& op = command.params[0];
  const at::Parameter& file = command.params[1];
  if (!op.is_number() || !file.is_number()) return false;
  const bool read = op.number == kCrsmGetResponse || op.number == kCrsmReadBinary || op.number == kCrsmStatus;
  return read && std::find(kCrsmFiles.begin(), kCrsmFiles.end(), file.number) != kCrsmFiles.end();
}

std::optional<PersonaRights> PersonaRights::from_policy(const policy::Persona& persona) {
  if (!persona.modem) return std::nullopt;
  std::optional<std::uint32_t> sms_per_hour;
  if (persona.modem->sms_per_hour) sms_per_hour = persona.modem->sms_per_hour->value;
  return PersonaRights{persona.name.value, persona.modem->at_families.value, persona.modem->dial.value,
                       persona.modem->answer.value, sms_per_hour};
}

Classification classify(const at::Command& command) {
  // Vendor commands (^ % $ # *): firmware update, debug and radio configuration live there,
  // none is needed by a persona, and each changes or reveals the modem for everyone.
  if (command.kind == CommandKind::kExtended && !command.name.empty() && command.name.front() != '+') {
    return with(Handling::kDom0Only, std::nullopt);
  }
  const CommandRow* row = row_for(command);
  if (row == nullptr) return with(Handling::kUnknown, std::nullopt);  // default deny
  Handling handling = by_form(*row, command.form);
  if (command.kind == CommandKind::kDial) {
    // A data call would put the one AT line into data mode; MMI codes act on the subscription.
    if (!command.dial.voice || is_mmi_dial(command)) handling = Handling::kDom0Only;
    return with(handling, command.dial.voice ? AtFamily::call : AtFamily::data);
  }
  if (command.name == "+CMGD" && command.form == CommandForm::kSet && command.params.size() > 1 &&
      !(command.params[1].is_number() && command.params[1].number == 0)) {
    // <delflag> 1..4 deletes by status across the whole storage, the other persona's too.
    handling = Handling::kDom0Only;
  }
  if (command.name == "+CRSM" && command.form == CommandForm::kSet && !crsm_allowed(command)) {
    handling = Handling::kDom0Only;
  }
  return with(handling, row->family);
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
