#include "twofold/modem/sim/modem.h"

#include "twofold/modem/sim/sim_files.h"

#include <algorithm>
#include <chrono>
#include <ctime>

#include "twofold/modem/sim/sms_codec.h"

namespace twofold::modem::sim {
namespace {

using at::Command;
using at::CommandForm;
using at::Parameter;

// 27.007 §9.2 / 27.005 §3.2.5 codes the simulator uses.
constexpr int kCmeNotAllowed = 3;
constexpr int kCmeNotSupported = 4;
constexpr int kCmeNoNetwork = 30;
constexpr int kCmeIncorrectParameters = 50;
constexpr int kCmsNotAllowed = 302;
constexpr int kCmsInvalidPduParameter = 304;
constexpr int kCmsInvalidTextParameter = 305;
constexpr int kCmsInvalidIndex = 321;
constexpr int kCmsMemoryFull = 322;

constexpr std::string_view kStatusNames[] = {"REC UNREAD", "REC READ", "STO UNSENT", "STO SENT"};

std::optional<std::uint32_t> number_param(const Command& command, std::size_t i) {
  if (i >= command.params.size() || !command.params[i].is_number()) return std::nullopt;
  return command.params[i].number;
}

bool is_given(const Command& command, std::size_t i) {
  return i < command.params.size() && !command.params[i].is_empty();
}

std::string now_timestamp() {
  const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm utc{};
  gmtime_r(&now, &utc);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y/%m/%d,%H:%M:%S+00", &utc);
  return std::string(buffer).substr(2);  // 27.005 <scts> has a two-digit year
}

int number_type(std::string_view number) { return number.starts_with("+") ? 145 : 129; }

std::string cme_text(int code) {
  switch (code) {
    case kCmeNotAllowed: return "operation not allowed";
    case kCmeNotSupported: return "operation not supported";
    case kCmeNoNetwork: return "no network service";
    case kCmeIncorrectParameters: return "incorrect parameters";
    default: return "unknown";
  }
}

}  // namespace

struct Modem::Reply {
  enum class Outcome { kContinue, kError, kFinal, kPrompt };
  Outcome outcome = Outcome::kContinue;
  std::vector<std::string> info;
  int error = 0;        // +CME/+CMS code for kError
  bool sms = false;     // +CMS rather than +CME
  std::string final_verbose;
  int final_numeric = 0;

  static Reply ok(std::vector<std::string> lines = {}) { return {Outcome::kContinue, std::move(lines), 0, false, {}, 0}; }
  static Reply cme(int code) { return {Outcome::kError, {}, code, false, {}, 0}; }
  static Reply cms(int code) { return {Outcome::kError, {}, code, true, {}, 0}; }
  static Reply final(std::string verbose, int numeric) { return {Outcome::kFinal, {}, 0, false, std::move(verbose), numeric}; }
  static Reply prompt() { return {Outcome::kPrompt, {}, 0, false, {}, 0}; }
};

Modem::Modem(Output output, ModemOptions options) : output_(std::move(output)), options_(std::move(options)) {
  defaults();
  call_waiting_ = options_.call_waiting;
  cmer_ind_ = options_.indicators ? 1 : 0;
}

void Modem::defaults() {
  echo_ = true;
  verbose_ = true;
  quiet_ = false;
  cmee_ = 0;
  creg_mode_ = 0;
  clip_ = false;
  cdip_ = false;
  crc_ = false;
  text_mode_ = false;
  cnmi_mt_ = 1;  // +CMTI on arrival without setup: what the lab tests expect
  charset_ = "IRA";
  s_registers_.fill(0);
  s_registers_[3] = '\r';
  s_registers_[4] = '\n';
  s_registers_[5] = '\b';
  s_registers_[6] = 2;
  s_registers_[7] = 50;
  s_registers_[8] = 2;
  s_registers_[10] = 14;
  stream_.set_config({'\r', '\b'});
}

void Modem::reset() {
  defaults();
  cfun_ = 1;
  calls_.clear();
  pending_sms_.reset();
  stream_.reset();
  silent_ = false;
}

void Modem::emit(std::string_view bytes) {
  if (!silent_ && !bytes.empty()) output_(bytes);
}

std::string Modem::crlf() const {
  return {static_cast<char>(s_registers_[3]), static_cast<char>(s_registers_[4])};
}

void Modem::send_info(const std::vector<std::string>& lines) {
  if (lines.empty()) return;
  std::string out = verbose_ ? crlf() : std::string{};
  for (const auto& line : lines) out += line + crlf();
  emit(out);
}

void Modem::send_urc(const std::vector<std::string>& lines) { send_info(lines); }

void Modem::send_final(std::string_view verbose, int numeric) {
  if (quiet_) return;
  if (verbose_) {
    emit(crlf() + std::string(verbose) + crlf());
  } else {
    emit(std::to_string(numeric) + static_cast<char>(s_registers_[3]));
  }
}

void Modem::send_error(std::optional<int> code, bool sms) {
  if (cmee_ == 0 || !code) {
    send_final("ERROR", 4);
    return;
  }
  const std::string prefix = sms ? "+CMS ERROR: " : "+CME ERROR: ";
  const std::string detail = (cmee_ == 2 && !sms) ? cme_text(*code) : std::to_string(*code);
  if (quiet_) return;
  emit(crlf() + prefix + detail + crlf());
}

void Modem::receive(std::string_view bytes) {
  if (silent_) return;  // a modem that stopped answering: nothing is read, nothing echoed
  while (!bytes.empty()) {
    at::CommandStep step = stream_.consume(bytes);
    if (echo_) emit(bytes.substr(0, step.consumed));
    bytes.remove_prefix(step.consumed);
    if (!step.event) continue;
    std::visit(
        [this](auto&& event) {
          using T = std::decay_t<decltype(event)>;
          if constexpr (std::is_same_v<T, at::CommandLineEvent>) {
            ++lines_received_;
            last_line_ = event.raw;
            execute_line(event);
          } else if constexpr (std::is_same_v<T, at::RepeatEvent>) {
            auto parsed = at::parse_command_line(last_line_);
            if (last_line_.empty() || !parsed) {
              send_final("ERROR", 4);
            } else {
              execute_line(at::CommandLineEvent{last_line_, std::move(parsed).value()});
            }
          } else if constexpr (std::is_same_v<T, at::SmsTextEvent>) {
            finish_body(event.body.text, std::nullopt);
          } else if constexpr (std::is_same_v<T, at::SmsPduEvent>) {
            finish_body(std::nullopt, event.body.tpdu);
          } else if constexpr (std::is_same_v<T, at::SmsCancelledEvent>) {
            pending_sms_.reset();
            send_final("OK", 0);
          } else {
            if (pending_sms_) {
              pending_sms_.reset();
              send_error(text_mode_ ? kCmsInvalidTextParameter : kCmsInvalidPduParameter, true);
            } else {
              send_final("ERROR", 4);
            }
          }
        },
        std::move(*step.event));
  }
}

void Modem::execute_line(const at::CommandLineEvent& line) {
  for (const auto& command : line.line.commands) {
    Reply reply = execute(command);
    send_info(reply.info);
    switch (reply.outcome) {
      case Reply::Outcome::kContinue: break;
      case Reply::Outcome::kError: send_error(reply.error, reply.sms); return;
      case Reply::Outcome::kFinal: send_final(reply.final_verbose, reply.final_numeric); return;
      case Reply::Outcome::kPrompt: return;  // the body decides the final result
    }
    note_indicators();
  }
  send_final("OK", 0);
}

Modem::Reply Modem::execute(const Command& command) {
  switch (command.kind) {
    case at::CommandKind::kBasic: return execute_basic(command);
    case at::CommandKind::kSRegister: return execute_s_register(command);
    case at::CommandKind::kDial: return execute_dial(command);
    case at::CommandKind::kExtended: return execute_extended(command);
  }
  return Reply::cme(kCmeNotSupported);
}

Modem::Reply Modem::execute_basic(const Command& command) {
  const std::uint32_t value = command.params.empty() ? 0 : command.params[0].number;
  const std::string& name = command.name;
  auto flag = [&](bool& setting) {
    if (value > 1) return Reply::cme(kCmeIncorrectParameters);
    setting = value == 1;
    return Reply::ok();
  };
  if (name == "E") return flag(echo_);
  if (name == "V") return flag(verbose_);
  if (name == "Q") return flag(quiet_);
  if (name == "Z" || name == "&F") {
    defaults();
    return Reply::ok();
  }
  if (name == "H") {
    hang_up_all_but_waiting();
    return Reply::ok();
  }
  if (name == "A") {
    for (auto& call : calls_) {
      if (call.state == CallState::kIncoming) {
        call.state = CallState::kActive;
        return Reply::ok();
      }
    }
    return Reply::final("NO CARRIER", 3);
  }
  if (name == "I") return Reply::ok({"Twofold AT modem simulator"});
  if (name == "O") return Reply::final("NO CARRIER", 3);  // no data connection to return to
  if (name == "L" || name == "M" || name == "X" || name == "P" || name == "T" || name == "&C" ||
      name == "&D" || name == "&K" || name == "&W") {
    return Reply::ok();  // speaker, dialling and DTR options mean nothing here
  }
  return Reply::cme(kCmeNotSupported);
}

Modem::Reply Modem::execute_s_register(const Command& command) {
  const auto index = static_cast<std::size_t>(std::stoul(command.name.substr(1)));  // parser bounded it
  switch (command.form) {
    case CommandForm::kRead: {
      char buffer[8];
      std::snprintf(buffer, sizeof buffer, "%03d", s_registers_[index]);
      return Reply::ok({buffer});
    }
    case CommandForm::kTest: return Reply::ok({"(0-255)"});
    case CommandForm::kSet: {
      const std::uint32_t value = command.params[0].is_number() ? command.params[0].number : 0;
      if (value > 255) return Reply::cme(kCmeIncorrectParameters);
      s_registers_[index] = static_cast<int>(value);
      stream_.set_config({static_cast<char>(s_registers_[3]), static_cast<char>(s_registers_[5])});
      return Reply::ok();
    }
    case CommandForm::kAction: break;
  }
  return Reply::cme(kCmeNotSupported);
}

Modem::Reply Modem::execute_dial(const Command& command) {
  const std::string& number = command.dial.number;
  if (command.dial.voice && !number.empty() && (number.front() == '*' || number.front() == '#')) return execute_mmi(number);
  if (!command.dial.voice) return Reply::final("NO CARRIER", 3);  // no data calls
  const int registration = effective_registration();
  if (registration != 1 && registration != 5) return Reply::final("NO CARRIER", 3);
  if (!calls_.empty()) return Reply::cme(kCmeNotAllowed);
  calls_.push_back(Call{1, false, CallState::kAlerting, command.dial.number, {}});
  dialled_.insert(dialled_.begin(), command.dial.number);
  if (dialled_.size() > 10) dialled_.pop_back();
  return Reply::ok();
}

Modem::Reply Modem::execute_extended(const Command& command) {
  const std::string& name = command.name;
  const CommandForm form = command.form;
  const bool read = form == CommandForm::kRead;
  const bool test = form == CommandForm::kTest;
  const bool set = form == CommandForm::kSet;
  const bool action = form == CommandForm::kAction;

  // Identification (27.007 §5).
  if (name == "+CGMI" || name == "+GMI") return test ? Reply::ok() : Reply::ok({"Twofold"});
  if (name == "+CGMM" || name == "+GMM") return test ? Reply::ok() : Reply::ok({"TF-SIM1"});
  if (name == "+CGMR" || name == "+GMR") return test ? Reply::ok() : Reply::ok({"1.0.0"});
  if (name == "+CGSN" || name == "+GSN") return test ? Reply::ok() : Reply::ok({"356938035643809"});
  if (name == "+CIMI") return test ? Reply::ok() : Reply::ok({"001010123456789"});

  if (name == "+CMEE") {
    if (read) return Reply::ok({"+CMEE: " + std::to_string(cmee_)});
    if (test) return Reply::ok({"+CMEE: (0-2)"});
    const auto value = number_param(command, 0).value_or(0);
    if (value > 2) return Reply::cme(kCmeIncorrectParameters);
    cmee_ = static_cast<int>(value);
    return Reply::ok();
  }
  if (name == "+CPIN") {
    if (read) return Reply::ok({"+CPIN: READY"});
    return Reply::ok();
  }
  if (name == "+CFUN") {
    if (read) return Reply::ok({"+CFUN: " + std::to_string(cfun_)});
    if (test) return Reply::ok({"+CFUN: (0,1,4),(0-1)"});
    const auto value = number_param(command, 0);
    if (!set || !value || (*value != 0 && *value != 1 && *value != 4)) return Reply::cme(kCmeIncorrectParameters);
    const int before = effective_registration();
    cfun_ = static_cast<int>(*value);
    if (cfun_ != 1) calls_.clear();
    if (effective_registration() != before) announce_registration();
    return Reply::ok();
  }
  if (name == "+CREG") {
    if (read) {
      std::string line = "+CREG: " + std::to_string(creg_mode_) + "," + std::to_string(effective_registration());
      const int stat = effective_registration();
      if (creg_mode_ == 2 && (stat == 1 || stat == 5)) line += ",\"00C3\",\"A1B2\"";
      return Reply::ok({line});
    }
    if (test) return Reply::ok({"+CREG: (0-2)"});
    const auto value = number_param(command, 0).value_or(0);
    if (value > 2) return Reply::cme(kCmeIncorrectParameters);
    creg_mode_ = static_cast<int>(value);
    return Reply::ok();
  }
  if (name == "+COPS") {
    const int stat = effective_registration();
    if (read) {
      if (stat == 1 || stat == 5) return Reply::ok({"+COPS: 0,0,\"" + options_.operator_name + "\",7"});
      return Reply::ok({"+COPS: 0"});
    }
    if (test) return Reply::ok({"+COPS: (2,\"" + options_.operator_name + "\",\"Twofold\",\"00101\",7),,(0-4),(0-2)"});
    if (set && number_param(command, 0).value_or(0) <= 4) return Reply::ok();
    return Reply::cme(kCmeIncorrectParameters);
  }
  if (name == "+CSQ") {
    if (test) return Reply::ok({"+CSQ: (0-31,99),(0-7,99)"});
    if (!action) return Reply::cme(kCmeNotSupported);
    return Reply::ok({"+CSQ: " + std::to_string(cfun_ == 1 ? rssi_ : 99) + ",99"});
  }
  if (name == "+CLIP" || name == "+CRC" || name == "+CDIP") {
    bool& setting = name == "+CLIP" ? clip_ : name == "+CRC" ? crc_ : cdip_;
    if (read) return Reply::ok({name + ": " + std::to_string(setting ? 1 : 0) + (name == "+CLIP" ? ",1" : "")});
    if (test) return Reply::ok({name + ": (0,1)"});
    const auto value = number_param(command, 0).value_or(0);
    if (value > 1) return Reply::cme(kCmeIncorrectParameters);
    setting = value == 1;
    return Reply::ok();
  }
  if (name == "+CLCC") {
    if (test) return Reply::ok();
    std::vector<std::string> lines;
    for (const auto& call : calls_) {
      lines.push_back("+CLCC: " + std::to_string(call.id) + "," + (call.incoming ? "1" : "0") + "," +
                      std::to_string(static_cast<int>(call.state)) + ",0,0," + at::quote_string(call.number) +
                      "," + std::to_string(number_type(call.number)));
    }
    return Reply::ok(lines);
  }
  if (name == "+CHUP") {
    hang_up_all_but_waiting();
    return Reply::ok();
  }
  if (name == "+VTS") {
    const bool active = std::any_of(calls_.begin(), calls_.end(),
                                    [](const Call& c) { return c.state == CallState::kActive; });
    return active ? Reply::ok() : Reply::cme(kCmeNotAllowed);
  }
  if (name == "+CSCS") {
    if (read) return Reply::ok({"+CSCS: \"" + charset_ + "\""});
    if (test) return Reply::ok({"+CSCS: (\"GSM\",\"IRA\")"});
    if (!set || command.params.empty() || !command.params[0].is_string()) return Reply::cme(kCmeIncorrectParameters);
    const std::string& charset = command.params[0].text;
    if (charset != "GSM" && charset != "IRA") return Reply::cme(kCmeNotSupported);
    charset_ = charset;
    return Reply::ok();
  }
  if (name.starts_with("+CPB")) return execute_phonebook(command);
  if (name == "+CRSM" || name == "+CSIM") return execute_sim(command);
  if (name == "+CCFC" || name == "+CCWA" || name == "+CUSD" || name == "+CMER" || name == "+CHLD") {
    return execute_supplementary(command);
  }
  if (name.starts_with("+CM") || name == "+CNMI" || name == "+CPMS" || name == "+CSCA") {
    return execute_sms(command);
  }
  return Reply::cme(kCmeNotSupported);
}

Modem::Reply Modem::execute_sms(const Command& command) {
  const std::string& name = command.name;
  const CommandForm form = command.form;
  const bool read = form == CommandForm::kRead;
  const bool test = form == CommandForm::kTest;
  const std::string used = std::to_string(messages_.size());
  const std::string capacity = std::to_string(options_.storage_capacity);

  if (name == "+CMGF") {
    if (read) return Reply::ok({"+CMGF: " + std::string(text_mode_ ? "1" : "0")});
    if (test) return Reply::ok({"+CMGF: (0,1)"});
    const auto value = number_param(command, 0).value_or(0);
    if (value > 1) return Reply::cms(kCmsNotAllowed);
    text_mode_ = value == 1;
    return Reply::ok();
  }
  if (name == "+CNMI") {
    if (read) return Reply::ok({"+CNMI: 2," + std::to_string(cnmi_mt_) + ",0,0,0"});
    if (test) return Reply::ok({"+CNMI: (0-2),(0-2),(0),(0),(0)"});
    const auto mt = number_param(command, 1).value_or(0);
    if (mt > 2) return Reply::cms(kCmsNotAllowed);
    cnmi_mt_ = static_cast<int>(mt);
    return Reply::ok();
  }
  if (name == "+CPMS") {
    if (test) return Reply::ok({"+CPMS: (\"SM\"),(\"SM\"),(\"SM\")"});
    if (read) {
      const std::string one = "\"SM\"," + used + "," + capacity;
      return Reply::ok({"+CPMS: " + one + "," + one + "," + one});
    }
    for (const auto& param : command.params) {
      if (!param.is_empty() && !(param.is_string() && param.text == "SM")) return Reply::cms(kCmsNotAllowed);
    }
    const std::string one = used + "," + capacity;
    return Reply::ok({"+CPMS: " + one + "," + one + "," + one});
  }
  if (name == "+CSCA") {
    if (read) return Reply::ok({"+CSCA: " + at::quote_string(options_.own_smsc) + ",145"});
    return Reply::ok();
  }
  if (name == "+CMGS" || name == "+CMGW") {
    if (test) return Reply::ok();
    const bool write = name == "+CMGW";
    PendingSms pending{write, {}};
    if (text_mode_) {
      if (is_given(command, 0)) {
        if (!command.params[0].is_string()) return Reply::cms(kCmsInvalidTextParameter);
        pending.number = command.params[0].text;
      } else if (!write) {
        return Reply::cms(kCmsInvalidTextParameter);
      }
      stream_.enter_text_body();
    } else {
      const auto length = number_param(command, 0);
      if (!length || stream_.enter_pdu_body(*length)) return Reply::cms(kCmsInvalidPduParameter);
    }
    if (!write && effective_registration() != 1 && effective_registration() != 5) {
      stream_.reset();
      return Reply::cms(331);  // no network service
    }
    if (write && free_index() == 0) {
      stream_.reset();
      return Reply::cms(kCmsMemoryFull);
    }
    pending_sms_ = pending;
    emit(crlf() + "> ");
    return Reply::prompt();
  }
  if (name == "+CMGL") {
    if (test) {
      return Reply::ok({text_mode_ ? "+CMGL: (\"REC UNREAD\",\"REC READ\",\"STO UNSENT\",\"STO SENT\",\"ALL\")"
                                   : "+CMGL: (0-4)"});
    }
    int wanted = 0;  // 27.005: default is "REC UNREAD"
    if (is_given(command, 0)) {
      const Parameter& p = command.params[0];
      if (text_mode_) {
        if (!p.is_string()) return Reply::cms(kCmsInvalidTextParameter);
        wanted = -1;
        for (int i = 0; i < 4; ++i) {
          if (p.text == kStatusNames[i]) wanted = i;
        }
        if (p.text == "ALL") wanted = 4;
        if (wanted < 0) return Reply::cms(kCmsInvalidTextParameter);
      } else {
        if (!p.is_number() || p.number > 4) return Reply::cms(kCmsInvalidPduParameter);
        wanted = static_cast<int>(p.number);
      }
    }
    std::vector<std::string> lines;
    for (auto& message : messages_) {
      if (wanted != 4 && static_cast<int>(message.status) != wanted) continue;
      const std::string entry = list_entry(message, true);
      lines.push_back(entry.substr(0, entry.find('\n')));
      lines.push_back(entry.substr(entry.find('\n') + 1));
      if (message.status == MessageStatus::kRecUnread) message.status = MessageStatus::kRecRead;
    }
    return Reply::ok(lines);
  }
  if (name == "+CMGR") {
    if (test) return Reply::ok();
    const auto index = number_param(command, 0);
    const auto found = index ? find_message(static_cast<int>(*index)) : std::nullopt;
    if (!found) return Reply::cms(kCmsInvalidIndex);
    Message& message = messages_[*found];
    const std::string entry = list_entry(message, false);
    if (message.status == MessageStatus::kRecUnread) message.status = MessageStatus::kRecRead;
    return Reply::ok({entry.substr(0, entry.find('\n')), entry.substr(entry.find('\n') + 1)});
  }
  if (name == "+CMGD") {
    if (test) return Reply::ok({"+CMGD: (1-" + capacity + "),(0-4)"});
    const auto index = number_param(command, 0);
    const auto flag = number_param(command, 1).value_or(0);
    if (flag > 4) return Reply::cms(kCmsNotAllowed);
    if (flag == 0) {
      const auto found = index ? find_message(static_cast<int>(*index)) : std::nullopt;
      if (!found) return Reply::cms(kCmsInvalidIndex);
      messages_.erase(messages_.begin() + static_cast<std::ptrdiff_t>(*found));
      return Reply::ok();
    }
    // 27.005 §3.5.4 <delflag>: 1 read, 2 read+sent, 3 read+sent+unsent, 4 all.
    std::erase_if(messages_, [&](const Message& m) {
      switch (m.status) {
        case MessageStatus::kRecRead: return true;
        case MessageStatus::kStoSent: return flag >= 2;
        case MessageStatus::kStoUnsent: return flag >= 3;
        case MessageStatus::kRecUnread: return flag == 4;
      }
      return false;
    });
    return Reply::ok();
  }
  return Reply::cms(kCmsNotAllowed);
}

void Modem::finish_body(std::optional<std::string> text, std::optional<std::vector<std::uint8_t>> tpdu) {
  if (!pending_sms_) {
    send_final("ERROR", 4);
    return;
  }
  PendingSms pending = *pending_sms_;
  pending_sms_.reset();
  std::string body_text;
  std::string number = pending.number;
  std::string pdu_hex;
  if (tpdu) {
    const auto submit = decode_submit(*tpdu);
    if (!submit) {
      send_error(kCmsInvalidPduParameter, true);
      return;
    }
    number = submit->destination;
    body_text = submit->text;
    pdu_hex = hex(*tpdu);
  } else {
    body_text = std::move(*text);
    if (to_gsm7(body_text).size() > kMaxSeptets) {
      send_error(kCmsInvalidTextParameter, true);
      return;
    }
  }
  if (pending.write) {
    const int index = free_index();
    if (index == 0) {
      send_error(kCmsMemoryFull, true);
      return;
    }
    messages_.push_back(Message{index, MessageStatus::kStoUnsent, number, body_text, {}});
    send_info({"+CMGW: " + std::to_string(index)});
  } else {
    const int reference = next_reference_;
    next_reference_ = (next_reference_ + 1) % 256;
    sent_.push_back(SentMessage{number, body_text, pdu_hex, reference});
    send_info({"+CMGS: " + std::to_string(reference)});
  }
  send_final("OK", 0);
}

std::string Modem::list_entry(const Message& message, bool with_index) const {
  const bool received = message.status == MessageStatus::kRecUnread || message.status == MessageStatus::kRecRead;
  const std::string prefix = with_index ? "+CMGL: " + std::to_string(message.index) + "," : "+CMGR: ";
  if (text_mode_) {
    std::string header = prefix + "\"" + std::string(kStatusNames[static_cast<int>(message.status)]) + "\"," +
                         at::quote_string(message.number) + ",";
    if (received) header += "," + at::quote_string(message.timestamp);
    return header + "\n" + message.text;
  }
  const auto tpdu = received ? encode_deliver(message.number, message.text, message.timestamp)
                             : encode_submit(message.number, message.text, 0);
  std::vector<std::uint8_t> pdu = encode_smsc(options_.own_smsc);
  pdu.insert(pdu.end(), tpdu.begin(), tpdu.end());
  return prefix + std::to_string(static_cast<int>(message.status)) + ",," + std::to_string(tpdu.size()) + "\n" +
         hex(pdu);
}

std::optional<std::size_t> Modem::find_message(int index) const {
  for (std::size_t i = 0; i < messages_.size(); ++i) {
    if (messages_[i].index == index) return i;
  }
  return std::nullopt;
}

int Modem::free_index() const {
  for (int index = 1; index <= static_cast<int>(options_.storage_capacity); ++index) {
    if (!find_message(index)) return index;
  }
  return 0;
}

int Modem::effective_registration() const { return cfun_ == 1 ? network_registration_ : 0; }

void Modem::announce_registration() {
  const int stat = effective_registration();
  if (creg_mode_ == 0) return;
  std::string line = "+CREG: " + std::to_string(stat);
  if (creg_mode_ == 2 && (stat == 1 || stat == 5)) line += ",\"00C3\",\"A1B2\"";
  send_urc({line});
}

std::optional<std::string> Modem::incoming_call(std::string_view number, std::string_view called_line) {
  const int stat = effective_registration();
  if (stat != 1 && stat != 5) return "not registered";
  if (!calls_.empty()) {
    // 27.007 §7.12: with the call-waiting service on, a second call waits (+CCWA).
    const bool waiting_already = std::any_of(calls_.begin(), calls_.end(), [](const Call& c) {
      return c.state == CallState::kWaiting || c.state == CallState::kIncoming;
    });
    if (!call_waiting_ || waiting_already) return "line busy";
    calls_.push_back(Call{2, true, CallState::kWaiting, std::string(number), std::string(called_line)});
    ring_tick();
    return std::nullopt;
  }
  calls_.push_back(Call{1, true, CallState::kIncoming, std::string(number), std::string(called_line)});
  rings_ = 0;
  ring_tick();
  return std::nullopt;
}

void Modem::ring_tick() {
  auto waiting = std::find_if(calls_.begin(), calls_.end(), [](const Call& c) { return c.state == CallState::kWaiting; });
  if (waiting != calls_.end() && ccwa_n_ == 1) {
    send_urc({"+CCWA: " + at::quote_string(waiting->number) + "," + std::to_string(number_type(waiting->number)) + ",1"});
  }
  auto call = std::find_if(calls_.begin(), calls_.end(), [](const Call& c) { return c.state == CallState::kIncoming; });
  if (call == calls_.end()) return;
  if (s_registers_[0] > 0 && rings_ >= s_registers_[0]) {
    call->state = CallState::kActive;  // V.250 S0: answer after that many rings
    return;
  }
  ++rings_;
  std::vector<std::string> lines{crc_ ? "+CRING: VOICE" : "RING"};
  if (clip_) lines.push_back("+CLIP: " + at::quote_string(call->number) + "," + std::to_string(number_type(call->number)));
  // 27.007 §7.9: +CDIP after RING, on subscriptions with several lines.
  if (cdip_ && !call->called_line.empty()) {
    lines.push_back("+CDIP: " + at::quote_string(call->called_line) + "," + std::to_string(number_type(call->called_line)));
  }
  for (const auto& line : lines) send_urc({line});
}

std::optional<std::string> Modem::remote_answer() {
  for (auto& call : calls_) {
    if (!call.incoming && (call.state == CallState::kAlerting || call.state == CallState::kDialing)) {
      call.state = CallState::kActive;
      return std::nullopt;
    }
  }
  return "no outgoing call";
}

std::optional<std::string> Modem::remote_busy() {
  const auto removed = std::erase_if(calls_, [](const Call& c) { return !c.incoming && c.state == CallState::kAlerting; });
  if (removed == 0) return "no outgoing call";
  send_urc({"BUSY"});
  return std::nullopt;
}

std::optional<std::string> Modem::remote_hangup() {
  if (calls_.empty()) return "no call";
  calls_.clear();
  send_urc({"NO CARRIER"});
  note_indicators();
  return std::nullopt;
}

std::optional<std::string> Modem::remote_abandon() {
  const auto removed = std::erase_if(calls_, [](const Call& c) { return c.state == CallState::kIncoming; });
  return removed == 0 ? std::optional<std::string>("no ringing call") : std::nullopt;
}

std::optional<std::string> Modem::incoming_ussd(std::string_view text) {
  if (text.empty() || text.size() > 160) return "text must be 1-160 characters";
  send_urc({"+CUSD: 1," + at::quote_string(text) + ",15"});
  return std::nullopt;
}

void Modem::hang_up_all_but_waiting() {
  // ATH / +CHUP end the calls in progress; a waiting call then rings as an incoming one.
  std::erase_if(calls_, [](const Call& c) { return c.state != CallState::kWaiting; });
  for (auto& call : calls_) {
    call.state = CallState::kIncoming;
    call.id = 1;
  }
}

void Modem::note_indicators() {
  const bool in_call = std::any_of(calls_.begin(), calls_.end(), [](const Call& c) {
    return c.state == CallState::kActive || c.state == CallState::kHeld || c.state == CallState::kAlerting ||
           c.state == CallState::kDialing;
  });
  if (in_call == call_indicator_) return;
  call_indicator_ = in_call;
  // 27.007 §8.10: indicator 2 is "call" in this simulator's +CIND order (battchg, call, ...).
  if (cmer_ind_ == 1) send_urc({std::string("+CIEV: 2,") + (in_call ? "1" : "0")});
}

std::optional<std::vector<std::uint8_t>> Modem::sim_record(std::uint32_t file, std::uint32_t record) const {
  if (record == 0) return std::nullopt;
  if (file == kEfSms) {
    if (record > options_.storage_capacity) return std::nullopt;
    const auto found = find_message(static_cast<int>(record));
    if (!found) return ef_sms_free_record();
    const Message& m = messages_[*found];
    const bool received = m.status == MessageStatus::kRecUnread || m.status == MessageStatus::kRecRead;
    const auto tpdu = received ? encode_deliver(m.number, m.text, m.timestamp) : encode_submit(m.number, m.text, 0);
    std::vector<std::uint8_t> pdu = encode_smsc(options_.own_smsc);
    pdu.insert(pdu.end(), tpdu.begin(), tpdu.end());
    static constexpr std::array<std::uint8_t, 4> kStatus = {0x03, 0x01, 0x07, 0x05};
    return ef_sms_record(kStatus[static_cast<std::size_t>(m.status)], pdu);
  }
  if (file == kEfAdn) {
    if (record > options_.phonebook_capacity) return std::nullopt;
    for (const auto& e : phonebook_) {
      if (e.index == static_cast<int>(record)) return ef_adn_record(e.number, e.text);
    }
    return ef_adn_free_record();
  }
  if (file == kEfLnd) {
    if (record > 10) return std::nullopt;
    if (record > dialled_.size()) return ef_adn_free_record();
    return ef_adn_record(dialled_[record - 1], "");
  }
  return std::nullopt;
}

// 27.007 §8.18 +CRSM=<command>,<fileid>[,<P1>,<P2>,<P3>[,<data>]] and §8.17 +CSIM=<length>,<command>.
Modem::Reply Modem::execute_sim(const Command& command) {
  constexpr std::uint32_t kReadBinary = 176, kReadRecord = 178, kGetResponse = 192, kUpdateBinary = 214,
                          kUpdateRecord = 220, kStatus = 242;
  if (command.form == CommandForm::kTest) return Reply::ok();
  if (command.form != CommandForm::kSet) return Reply::cme(kCmeNotSupported);
  auto sw = [](int sw1, int sw2, const std::vector<std::uint8_t>* data) {
    std::string line = "+CRSM: " + std::to_string(sw1) + "," + std::to_string(sw2);
    if (data != nullptr) line += ",\"" + hex(*data) + "\"";
    return line;
  };
  if (command.name == "+CRSM") {
    const auto op = number_param(command, 0);
    const auto file = number_param(command, 1);
    if (!op || !file) return Reply::cme(kCmeIncorrectParameters);
    const std::uint32_t p1 = number_param(command, 2).value_or(0);
    if (*op == kReadRecord) {
      const auto record = sim_record(*file, p1);
      if (!record) return Reply::ok({sw(0x6A, 0x83, nullptr)});  // record not found
      if (*file == kEfSms || *file == kEfAdn || *file == kEfLnd) ++sim_file_reads_;
      return Reply::ok({sw(0x90, 0x00, &*record)});
    }
    if (*op == kReadBinary) {
      const auto data = ef_transparent(*file, options_.operator_name);
      if (!data) return Reply::ok({sw(0x6A, 0x82, nullptr)});  // file not found
      return Reply::ok({sw(0x90, 0x00, &*data)});
    }
    if (*op == kGetResponse || *op == kStatus) {
      const std::vector<std::uint8_t> fcp{0x62, 0x04, 0x83, 0x02, static_cast<std::uint8_t>(*file >> 8),
                                          static_cast<std::uint8_t>(*file & 0xFF)};
      return Reply::ok({sw(0x90, 0x00, &fcp)});
    }
    if (*op == kUpdateRecord && *file == kEfSms) {
      // A record written with status 0x00 frees the message slot.
      const auto found = find_message(static_cast<int>(p1));
      if (found) messages_.erase(messages_.begin() + static_cast<std::ptrdiff_t>(*found));
      return Reply::ok({sw(0x90, 0x00, nullptr)});
    }
    if (*op == kUpdateBinary || *op == kUpdateRecord) return Reply::ok({sw(0x90, 0x00, nullptr)});
    return Reply::ok({sw(0x6D, 0x00, nullptr)});  // instruction not supported
  }
  // +CSIM: a raw APDU, CLA INS P1 P2 [Lc data | Le].
  const auto length = number_param(command, 0);
  if (!length || command.params.size() < 2 || !command.params[1].is_string()) return Reply::cme(kCmeIncorrectParameters);
  const auto apdu = from_hex(command.params[1].text);
  if (!apdu || apdu->size() < 4 || *length != command.params[1].text.size()) return Reply::cme(kCmeIncorrectParameters);
  auto answer = [](std::vector<std::uint8_t> data, std::uint8_t sw1, std::uint8_t sw2) {
    data.push_back(sw1);
    data.push_back(sw2);
    const std::string text = hex(data);
    return Reply::ok({"+CSIM: " + std::to_string(text.size()) + ",\"" + text + "\""});
  };
  const std::uint8_t ins = (*apdu)[1];
  if (ins == 0xA4 && apdu->size() >= 7) {  // SELECT by file id
    csim_selected_ = static_cast<std::uint32_t>((*apdu)[5] << 8 | (*apdu)[6]);
    return answer({}, 0x90, 0x00);
  }
  if (ins == 0xB2 && csim_selected_) {  // READ RECORD
    const auto record = sim_record(*csim_selected_, (*apdu)[2]);
    if (!record) return answer({}, 0x6A, 0x83);
    ++sim_file_reads_;
    return answer(*record, 0x90, 0x00);
  }
  if (ins == 0xB0 && csim_selected_) {  // READ BINARY
    const auto data = ef_transparent(*csim_selected_, options_.operator_name);
    if (!data) return answer({}, 0x6A, 0x82);
    return answer(*data, 0x90, 0x00);
  }
  return answer({}, 0x6D, 0x00);
}

Modem::Reply Modem::execute_supplementary(const Command& command) {
  const std::string& name = command.name;
  const bool set = command.form == CommandForm::kSet;
  if (command.form == CommandForm::kTest) {
    if (name == "+CCFC") return Reply::ok({"+CCFC: (0-5)"});
    if (name == "+CCWA") return Reply::ok({"+CCWA: (0,1)"});
    if (name == "+CUSD") return Reply::ok({"+CUSD: (0-2)"});
    if (name == "+CHLD") return Reply::ok({"+CHLD: (0,1,1x,2,2x)"});
    return Reply::ok({"+CMER: (3),(0),(0),(0,1)"});
  }
  if (name == "+CCFC") {
    // +CCFC=<reason>,<mode>[,<number>[,<type>]]: mode 0 disable, 1 enable, 2 query, 3 register, 4 erase.
    const auto reason = number_param(command, 0);
    const auto mode = number_param(command, 1);
    if (!set || !reason || !mode || *reason > 5 || *mode > 4) return Reply::cme(kCmeIncorrectParameters);
    const int r = static_cast<int>(*reason);
    auto found = std::find_if(forwarding_.begin(), forwarding_.end(), [&](const auto& f) { return f.first == r; });
    if (*mode == 2) {
      if (found == forwarding_.end()) return Reply::ok({"+CCFC: 0,1"});
      return Reply::ok({"+CCFC: 1,1," + at::quote_string(found->second) + "," + std::to_string(number_type(found->second))});
    }
    if (*mode == 3 || *mode == 1) {
      if (command.params.size() < 3 || !command.params[2].is_string()) return Reply::cme(kCmeIncorrectParameters);
      if (found != forwarding_.end()) forwarding_.erase(found);
      forwarding_.emplace_back(r, command.params[2].text);
      return Reply::ok();
    }
    if (found != forwarding_.end()) forwarding_.erase(found);
    return Reply::ok();
  }
  if (name == "+CCWA") {
    if (command.form == CommandForm::kRead) return Reply::ok({"+CCWA: " + std::to_string(ccwa_n_)});
    if (!set) return Reply::cme(kCmeIncorrectParameters);
    if (const auto n = number_param(command, 0)) ccwa_n_ = *n == 1 ? 1 : 0;
    const auto mode = number_param(command, 1);
    if (mode == 2U) return Reply::ok({std::string("+CCWA: ") + (call_waiting_ ? "1" : "0") + ",1"});
    if (mode) call_waiting_ = *mode == 1;
    return Reply::ok();
  }
  if (name == "+CUSD") {
    if (command.form == CommandForm::kRead) return Reply::ok({"+CUSD: 1"});
    if (!set) return Reply::cme(kCmeIncorrectParameters);
    if (command.params.size() >= 2 && command.params[1].is_string()) {
      ussd_sent_.push_back(command.params[1].text);
      // The network's answer comes later, as a URC (sent before OK here, as fast modems do).
      send_urc({"+CUSD: 0," + at::quote_string("Balance: 10.00 EUR") + ",15"});
    }
    return Reply::ok();
  }
  if (name == "+CMER") {
    if (command.form == CommandForm::kRead) return Reply::ok({"+CMER: 3,0,0," + std::to_string(cmer_ind_)});
    cmer_ind_ = number_param(command, 3).value_or(0) == 1 ? 1 : 0;
    return Reply::ok();
  }
  // +CHLD (27.007 §7.13): 0 release held/waiting, 1 release active (accept the other),
  // 2 hold active and accept the waiting one, 1x release call x.
  const auto n = number_param(command, 0);
  if (!set || !n) return Reply::cme(kCmeIncorrectParameters);
  if (*n >= 10 && *n <= 19) {
    const auto removed = std::erase_if(calls_, [&](const Call& c) { return c.id == static_cast<int>(*n - 10); });
    return removed != 0 ? Reply::ok() : Reply::cme(kCmeNotAllowed);
  }
  if (*n == 0) {
    std::erase_if(calls_, [](const Call& c) { return c.state == CallState::kWaiting || c.state == CallState::kHeld; });
    return Reply::ok();
  }
  if (*n == 1 || *n == 2) {
    if (*n == 1) std::erase_if(calls_, [](const Call& c) { return c.state == CallState::kActive; });
    for (auto& call : calls_) {
      if (call.state == CallState::kActive) call.state = CallState::kHeld;
      if (call.state == CallState::kWaiting) call.state = CallState::kActive;
    }
    return Reply::ok();
  }
  return Reply::cme(kCmeNotAllowed);
}

// 22.030 control strings in a dial string: *21*<n># register call forwarding (unconditional),
// #21# erase, *#21# interrogate, **04*old*new*new# change the PIN, *#06# the IMEI.
Modem::Reply Modem::execute_mmi(std::string_view code) {
  if (code == "*#06#") return Reply::ok({"356938035643809"});
  auto starts = [&](std::string_view p) { return code.starts_with(p); };
  if (starts("**04*") && code.ends_with("#")) {
    std::string_view rest = code.substr(5, code.size() - 6);
    const auto a = rest.find('*');
    const auto b = a == std::string_view::npos ? a : rest.find('*', a + 1);
    if (b == std::string_view::npos) return Reply::cme(kCmeIncorrectParameters);
    const std::string_view old_pin = rest.substr(0, a), new_pin = rest.substr(a + 1, b - a - 1), again = rest.substr(b + 1);
    if (old_pin != pin_) return Reply::cme(16);  // incorrect password
    if (new_pin != again || new_pin.size() < 4) return Reply::cme(kCmeIncorrectParameters);
    pin_ = std::string(new_pin);
    return Reply::ok();
  }
  static constexpr std::array<std::pair<std::string_view, int>, 4> kReasons = {
      std::pair<std::string_view, int>{"21", 0}, {"67", 1}, {"61", 2}, {"62", 3}};
  for (const auto& [sc, reason] : kReasons) {
    const std::string reg = "*" + std::string(sc) + "*", erase = "#" + std::string(sc) + "#",
                      query = "*#" + std::string(sc) + "#";
    const int r = reason;
    if (code == query) {
      auto found = std::find_if(forwarding_.begin(), forwarding_.end(), [&](const auto& f) { return f.first == r; });
      return Reply::ok({found == forwarding_.end() ? "+CCFC: 0,1" : "+CCFC: 1,1," + at::quote_string(found->second) + ",145"});
    }
    if (code == erase) {
      std::erase_if(forwarding_, [&](const auto& f) { return f.first == r; });
      return Reply::ok();
    }
    if (code.starts_with(reg) && code.ends_with("#") && code.size() > reg.size() + 1) {
      std::erase_if(forwarding_, [&](const auto& f) { return f.first == r; });
      forwarding_.emplace_back(r, std::string(code.substr(reg.size(), code.size() - reg.size() - 1)));
      return Reply::ok();
    }
  }
  return Reply::cme(kCmeNotSupported);
}

std::optional<std::string> Modem::incoming_sms(std::string_view number, std::string_view text) {
  if (to_gsm7(text).size() > kMaxSeptets) return "text too long";
  const std::string timestamp = options_.fixed_timestamp.empty() ? now_timestamp() : options_.fixed_timestamp;
  if (cnmi_mt_ == 2) {  // 27.005 §3.4.1 mt=2: routed to the DTE, not stored
    if (text_mode_) {
      send_urc({"+CMT: " + at::quote_string(number) + ",," + at::quote_string(timestamp) + crlf() + std::string(text)});
    } else {
      const auto tpdu = encode_deliver(number, text, timestamp);
      std::vector<std::uint8_t> pdu = encode_smsc(options_.own_smsc);
      pdu.insert(pdu.end(), tpdu.begin(), tpdu.end());
      send_urc({"+CMT: ," + std::to_string(tpdu.size()) + crlf() + hex(pdu)});
    }
    return std::nullopt;
  }
  const int index = free_index();
  if (index == 0) return "memory full";
  messages_.push_back(Message{index, MessageStatus::kRecUnread, std::string(number), std::string(text), timestamp});
  if (cnmi_mt_ == 1) send_urc({"+CMTI: \"SM\"," + std::to_string(index)});
  return std::nullopt;
}

std::optional<std::string> Modem::set_registration(int status) {
  if (status < 0 || status > 5) return "status must be 0-5";
  const int before = effective_registration();
  network_registration_ = status;
  if (effective_registration() != before) announce_registration();
  return std::nullopt;
}

std::optional<std::string> Modem::set_signal(int rssi) {
  if ((rssi < 0 || rssi > 31) && rssi != 99) return "rssi must be 0-31 or 99";
  rssi_ = rssi;
  return std::nullopt;
}

// 27.007 §8.11-8.14, "SM" storage only: +CPBS, +CPBR, +CPBW (with +CPBW: <written_index>
// when the index is omitted), +CPBF.
Modem::Reply Modem::execute_phonebook(const Command& command) {
  constexpr int kCmeMemoryFull = 20;
  constexpr int kCmeInvalidIndex = 21;
  constexpr std::size_t kNumberLength = 40;
  constexpr std::size_t kTextLength = 18;
  const std::string& name = command.name;
  const bool read = command.form == CommandForm::kRead;
  const bool test = command.form == CommandForm::kTest;
  const bool set = command.form == CommandForm::kSet;
  const int capacity = static_cast<int>(options_.phonebook_capacity);
  const std::string range = "(1-" + std::to_string(capacity) + ")";
  const auto entry_line = [](const std::string& prefix, const PhonebookEntry& e) {
    return prefix + ": " + std::to_string(e.index) + "," + at::quote_string(e.number) + "," + std::to_string(e.type) +
           "," + at::quote_string(e.text);
  };
  if (name == "+CPBS") {
    if (test) return Reply::ok({"+CPBS: (\"SM\")"});
    if (read) return Reply::ok({"+CPBS: \"SM\"," + std::to_string(phonebook_.size()) + "," + std::to_string(capacity)});
    if (set && !command.params.empty() && command.params[0].is_string() && command.params[0].text == "SM") return Reply::ok();
    return Reply::cme(kCmeNotSupported);
  }
  if (name == "+CPBR") {
    if (test) return Reply::ok({"+CPBR: " + range + "," + std::to_string(kNumberLength) + "," + std::to_string(kTextLength)});
    const auto first = number_param(command, 0);
    const auto last = command.params.size() > 1 ? number_param(command, 1) : first;
    if (!set || !first || !last || *first < 1 || *last < *first || *last > static_cast<std::uint32_t>(capacity)) {
      return Reply::cme(kCmeInvalidIndex);
    }
    std::vector<std::string> lines;
    for (const auto& e : phonebook_) {
      const auto index = static_cast<std::uint32_t>(e.index);
      if (index >= *first && index <= *last) lines.push_back(entry_line("+CPBR", e));
    }
    return Reply::ok(lines);
  }
  if (name == "+CPBF") {
    if (test) return Reply::ok({"+CPBF: " + std::to_string(kNumberLength) + "," + std::to_string(kTextLength)});
    if (!set || command.params.empty() || !command.params[0].is_string()) return Reply::cme(kCmeIncorrectParameters);
    std::vector<std::string> lines;
    for (const auto& e : phonebook_) {
      if (e.text.starts_with(command.params[0].text)) lines.push_back(entry_line("+CPBF", e));
    }
    return Reply::ok(lines);
  }
  if (name == "+CPBW") {
    if (test) return Reply::ok({"+CPBW: " + range + "," + std::to_string(kNumberLength) + ",(129,145)," + std::to_string(kTextLength)});
    if (!set || command.params.empty()) return Reply::cme(kCmeIncorrectParameters);
    const bool omitted = command.params[0].is_empty();
    int index = 0;
    if (omitted) {
      for (int i = 1; i <= capacity && index == 0; ++i) {
        if (std::none_of(phonebook_.begin(), phonebook_.end(), [&](const PhonebookEntry& e) { return e.index == i; })) index = i;
      }
      if (index == 0) return Reply::cme(kCmeMemoryFull);
    } else {
      const auto given = number_param(command, 0);
      if (!given || *given < 1 || *given > static_cast<std::uint32_t>(capacity)) return Reply::cme(kCmeInvalidIndex);
      index = static_cast<int>(*given);
    }
    std::erase_if(phonebook_, [&](const PhonebookEntry& e) { return e.index == index; });
    if (command.params.size() == 1) return Reply::ok();  // delete
    if (!command.params[1].is_string() || command.params[1].text.size() > kNumberLength) {
      return Reply::cme(kCmeIncorrectParameters);
    }
    PhonebookEntry entry{index, command.params[1].text, static_cast<std::uint32_t>(number_type(command.params[1].text)), {}};
    if (auto type = number_param(command, 2)) entry.type = *type;
    if (command.params.size() > 3 && command.params[3].is_string()) entry.text = command.params[3].text.substr(0, kTextLength);
    phonebook_.push_back(std::move(entry));
    std::sort(phonebook_.begin(), phonebook_.end(), [](const auto& a, const auto& b) { return a.index < b.index; });
    if (omitted) return Reply::ok({"+CPBW: " + std::to_string(index)});
    return Reply::ok();
  }
  return Reply::cme(kCmeNotSupported);
}

nlohmann::json Modem::state() const {
  nlohmann::json calls = nlohmann::json::array();
  for (const auto& call : calls_) {
    calls.push_back({{"id", call.id}, {"incoming", call.incoming}, {"state", static_cast<int>(call.state)},
                     {"number", call.number}});
  }
  nlohmann::json messages = nlohmann::json::array();
  for (const auto& m : messages_) {
    messages.push_back({{"index", m.index}, {"status", std::string(kStatusNames[static_cast<int>(m.status)])},
                        {"number", m.number}, {"text", m.text}});
  }
  nlohmann::json phonebook = nlohmann::json::array();
  for (const auto& e : phonebook_) {
    phonebook.push_back({{"index", e.index}, {"number", e.number}, {"type", e.type}, {"text", e.text}});
  }
  nlohmann::json forwarding = nlohmann::json::array();
  for (const auto& [reason, number] : forwarding_) forwarding.push_back({{"reason", reason}, {"number", number}});
  nlohmann::json sent = nlohmann::json::array();
  for (const auto& s : sent_) {
    sent.push_back({{"number", s.number}, {"text", s.text}, {"pdu", s.pdu}, {"reference", s.reference}});
  }
  return {{"echo", echo_},          {"verbose", verbose_},   {"text_mode", text_mode_},
          {"cmee", cmee_},          {"cfun", cfun_},         {"registration", effective_registration()},
          {"silent", silent_},      {"calls", calls},        {"messages", messages},
          {"sent", sent},           {"lines_received", lines_received_}, {"last_line", last_line_},
          {"phonebook", phonebook}, {"dialled", dialled_}, {"forwarding", forwarding},
          {"call_waiting", call_waiting_}, {"pin", pin_}, {"ussd", ussd_sent_}, {"sim_file_reads", sim_file_reads_}};
}

}  // namespace twofold::modem::sim
