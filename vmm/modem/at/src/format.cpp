#include "twofold/modem/at/format.h"

namespace twofold::modem::at {
namespace {

void append_parameter(std::string& out, const Parameter& parameter) {
  switch (parameter.type) {
    case Parameter::Type::kEmpty: break;
    case Parameter::Type::kNumber: out += std::to_string(parameter.number); break;
    case Parameter::Type::kString:
    case Parameter::Type::kToken: out += quote_string(parameter.text); break;
  }
}

}  // namespace

std::string format_command(const Command& command) {
  std::string out = command.name;
  switch (command.kind) {
    case CommandKind::kBasic:
      if (!command.params.empty() && command.params[0].is_number()) append_parameter(out, command.params[0]);
      return out;
    case CommandKind::kDial:
      out += command.dial.number;
      if (command.dial.clir) out += *command.dial.clir ? 'I' : 'i';
      if (command.dial.cug) out += *command.dial.cug ? 'G' : 'g';
      if (command.dial.voice) out += ';';
      return out;
    case CommandKind::kSRegister:
    case CommandKind::kExtended:
      break;
  }
  switch (command.form) {
    case CommandForm::kAction: break;
    case CommandForm::kRead: out += '?'; break;
    case CommandForm::kTest: out += "=?"; break;
    case CommandForm::kSet:
      out += '=';
      for (std::size_t i = 0; i < command.params.size(); ++i) {
        if (i > 0) out += ',';
        append_parameter(out, command.params[i]);
      }
      break;
  }
  return out;
}

std::string format_command_line(const CommandLine& line) {
  std::string out = "AT";
  for (std::size_t i = 0; i < line.commands.size(); ++i) {
    const Command& command = line.commands[i];
    out += format_command(command);
    const bool more = i + 1 < line.commands.size();
    // V.250 §5.4.1: an extended command is ended by ';'. (A voice dial carries its own
    // ';'; a data dial runs to the end of the line, so the parser never puts one mid-line.)
    if (more && command.kind == CommandKind::kExtended) out += ';';
  }
  return out;
}

}  // namespace twofold::modem::at
