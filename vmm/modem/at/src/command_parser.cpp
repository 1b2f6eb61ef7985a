// Command-line syntax of ITU-T V.250 §5.2-5.4 with the 3GPP TS 27.007 §4 extensions.
#include <optional>

#include "lexing.h"
#include "twofold/modem/at/command.h"
#include "twofold/modem/at/limits.h"

namespace twofold::modem::at {
namespace {

using detail::is_alpha;
using detail::is_digit;
using detail::to_upper;

constexpr bool is_name_char(char c) noexcept {
  // V.250 §5.4.1: letters, digits and ! % - . / : _
  return is_alpha(c) || is_digit(c) || c == '!' || c == '%' || c == '-' || c == '.' ||
         c == '/' || c == ':' || c == '_';
}

constexpr bool starts_command(char c) noexcept {
  return is_alpha(c) || c == '&' || detail::is_extended_prefix(c);
}

class LineParser {
 public:
  explicit LineParser(std::string_view line) : line_(line) {}

  Result<CommandLine> parse() {
    if (line_.size() < 2 || to_upper(line_[0]) != 'A' || to_upper(line_[1]) != 'T') {
      return ParseError{ErrorReason::kMissingPrefix, 0};
    }
    for (std::size_t i = 0; i < line_.size(); ++i) {
      if (detail::is_control(line_[i])) return ParseError{ErrorReason::kControlCharacter, i};
    }
    pos_ = 2;
    CommandLine result;
    bool need_separator = false;  // extended commands must be followed by ';' or the end
    while (!at_end()) {
      const char c = peek();
      if (c == ';') {
        ++pos_;
        need_separator = false;
        continue;
      }
      if (need_separator) {
        return error(starts_command(c) ? ErrorReason::kMissingSeparator
                                       : ErrorReason::kUnexpectedCharacter);
      }
      Command command;
      std::optional<ParseError> failure;
      if (detail::is_extended_prefix(c)) {
        failure = parse_extended(command);
        need_separator = true;
      } else if (to_upper(c) == 'D') {
        failure = parse_dial(command);
      } else if (to_upper(c) == 'S') {
        failure = parse_s_register(command);
      } else if (c == '&' || is_alpha(c)) {
        failure = parse_basic(command);
      } else {
        return error(ErrorReason::kUnexpectedCharacter);
      }
      if (failure) return *failure;
      result.commands.push_back(std::move(command));
    }
    return result;
  }

 private:
  // V.250 §5.2.1: spaces outside strings carry no meaning.
  void skip_spaces() noexcept {
    while (pos_ < line_.size() && line_[pos_] == ' ') ++pos_;
  }
  bool at_end() noexcept {
    skip_spaces();
    return pos_ >= line_.size();
  }
  char peek() noexcept {
    skip_spaces();
    return pos_ < line_.size() ? line_[pos_] : '\0';
  }
  ParseError error(ErrorReason reason) const noexcept { return {reason, pos_}; }

  std::optional<ParseError> parse_basic(Command& command) {
    command.kind = CommandKind::kBasic;
    if (line_[pos_] == '&') {
      ++pos_;
      const char letter = peek();
      if (!is_alpha(letter)) return error(ErrorReason::kUnexpectedCharacter);
      command.name = std::string{'&', to_upper(letter)};
    } else {
      command.name = std::string(1, to_upper(line_[pos_]));
    }
    ++pos_;
    if (is_digit(peek())) {
      auto number = detail::parse_decimal(line_, pos_);
      if (!number) return number.error();
      command.form = CommandForm::kSet;
      command.params.push_back(Parameter::of_number(number.value()));
    } else {
      command.form = CommandForm::kAction;
    }
    return std::nullopt;
  }

  std::optional<ParseError> parse_s_register(Command& command) {
    command.kind = CommandKind::kSRegister;
    ++pos_;  // 'S'
    if (!is_digit(peek())) return error(ErrorReason::kUnexpectedCharacter);
    const std::size_t number_at = pos_;
    auto number = detail::parse_decimal(line_, pos_);
    if (!number) return number.error();
    if (number.value() > kMaxSRegister) return ParseError{ErrorReason::kNumberOutOfRange, number_at};
    command.name = "S" + std::to_string(number.value());
    const char c = peek();
    if (c == '?') {
      ++pos_;
      command.form = CommandForm::kRead;
      return std::nullopt;
    }
    if (c != '=') return error(ErrorReason::kUnexpectedCharacter);
    ++pos_;
    if (peek() == '?') {
      ++pos_;
      command.form = CommandForm::kTest;
      return std::nullopt;
    }
    command.form = CommandForm::kSet;
    if (is_digit(peek())) {
      auto value = detail::parse_decimal(line_, pos_);
      if (!value) return value.error();
      command.params.push_back(Parameter::of_number(value.value()));
    } else {
      command.params.push_back(Parameter::empty());  // "S0=": the register's default
    }
    return std::nullopt;
  }

  std::optional<ParseError> parse_extended(Command& command) {
    command.kind = CommandKind::kExtended;
    command.name.push_back(line_[pos_]);
    ++pos_;
    skip_spaces();
    if (pos_ >= line_.size() || !is_alpha(line_[pos_])) return error(ErrorReason::kUnexpectedCharacter);
    while (pos_ < line_.size() && is_name_char(line_[pos_])) {
      if (command.name.size() > kMaxCommandNameLength) return error(ErrorReason::kNameTooLong);
      command.name.push_back(to_upper(line_[pos_]));
      ++pos_;
    }
    const char c = peek();
    if (c == '?') {
      ++pos_;
      command.form = CommandForm::kRead;
    } else if (c == '=') {
      ++pos_;
      if (peek() == '?') {
        ++pos_;
        command.form = CommandForm::kTest;
      } else {
        command.form = CommandForm::kSet;
        return parse_parameters(command.params);
      }
    } else {
      command.form = CommandForm::kAction;
    }
    return std::nullopt;
  }

  std::optional<ParseError> parse_parameters(std::vector<Parameter>& params) {
    for (;;) {
      if (params.size() >= kMaxParameters) return error(ErrorReason::kTooManyParameters);
      char c = peek();
      if (at_end() || c == ';') {
        params.push_back(Parameter::empty());  // after '=' or a trailing ','
        return std::nullopt;
      }
      if (c == ',') {
        params.push_back(Parameter::empty());
        ++pos_;
        continue;
      }
      if (c == '"') {
        auto text = detail::parse_quoted(line_, pos_);
        if (!text) return text.error();
        params.push_back(Parameter::of_string(std::move(text).value()));
      } else if (is_digit(c)) {
        auto number = detail::parse_decimal(line_, pos_);
        if (!number) return number.error();
        params.push_back(Parameter::of_number(number.value()));
      } else if (is_alpha(c)) {
        return error(ErrorReason::kUnquotedString);
      } else {
        return error(ErrorReason::kUnexpectedCharacter);
      }
      c = peek();
      if (at_end() || c == ';') return std::nullopt;
      if (starts_command(c)) return error(ErrorReason::kMissingSeparator);
      if (c != ',') return error(ErrorReason::kUnexpectedCharacter);
      ++pos_;
    }
  }

  // 27.007 §6.2: D[<dial string>][I|i][G|g][;]. The string runs to ';' or the line's end.
  std::optional<ParseError> parse_dial(Command& command) {
    command.kind = CommandKind::kDial;
    command.name = "D";
    command.form = CommandForm::kAction;
    ++pos_;
    DialString& dial = command.dial;
    bool has_address = false;
    while (pos_ < line_.size()) {
      const char c = line_[pos_];
      if (c == ';') {
        dial.voice = true;
        ++pos_;
        break;
      }
      const bool suffix_seen = dial.clir.has_value() || dial.cug.has_value();
      if (c == ' ' || c == '-' || c == '(' || c == ')') {
        // formatting that V.250 §6.3.1 tells the DCE to ignore
      } else if (c == 'I' || c == 'i') {
        dial.clir = (c == 'I');
      } else if (c == 'G' || c == 'g') {
        dial.cug = (c == 'G');
      } else if (suffix_seen) {
        return error(ErrorReason::kInvalidDialString);  // I/G only after the number
      } else if (is_digit(c) || c == '*' || c == '#') {
        dial.number.push_back(c);
        has_address = true;
      } else if (c == '+') {
        if (!dial.number.empty()) return error(ErrorReason::kInvalidDialString);
        dial.number.push_back(c);
      } else if (const char u = to_upper(c);
                 (u >= 'A' && u <= 'D') || u == 'T' || u == 'P' || u == 'W' || c == ',' ||
                 c == '!' || c == '@') {
        dial.number.push_back(u);
      } else {
        // includes '>' (phonebook dialling) and quotes: not supported, refused
        return error(ErrorReason::kInvalidDialString);
      }
      if (dial.number.size() > kMaxDialStringLength) return error(ErrorReason::kDialStringTooLong);
      ++pos_;
    }
    if (!has_address) return error(ErrorReason::kInvalidDialString);
    return std::nullopt;
  }

  std::string_view line_;
  std::size_t pos_ = 0;
};

}  // namespace

Result<CommandLine> parse_command_line(std::string_view untrusted_line) {
  return LineParser(untrusted_line).parse();
}

}  // namespace twofold::modem::at
