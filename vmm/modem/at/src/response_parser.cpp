// Classification of modem output lines: V.250 §5.7 result codes, 27.007 §9.2 +CME ERROR,
// 27.005 §3.2.5 +CMS ERROR, and the unsolicited codes of 27.007/27.005.
#include <array>

#include "lexing.h"
#include "twofold/modem/at/limits.h"
#include "twofold/modem/at/response.h"

namespace twofold::modem::at {
namespace {

using namespace std::string_view_literals;

// Codes that arrive without a command. Some (+CREG, +CLIP, +CPIN...) are also what a read
// command answers; the context decides (see classify_response_line).
constexpr std::array kUnsolicitedNames = {
    "RING"sv,   "+CRING"sv, "+CLIP"sv,  "+CCWA"sv,  "+CMTI"sv,  "+CMT"sv,   "+CDSI"sv,
    "+CDS"sv,   "+CBM"sv,   "+CBMI"sv,  "+CUSD"sv,  "+CSSI"sv,  "+CSSU"sv,  "+CREG"sv,
    "+CGREG"sv, "+CEREG"sv, "+C5GREG"sv, "+CIEV"sv, "+CTZV"sv,  "+CTZE"sv,  "+CGEV"sv,
    "+CPIN"sv,  "+CDIP"sv,
};

bool is_unsolicited_name(std::string_view name) noexcept {
  for (const auto candidate : kUnsolicitedNames) {
    if (candidate == name) return true;
  }
  return false;
}

std::string_view trim(std::string_view text) noexcept {
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
  return text;
}

bool all_digits(std::string_view text) noexcept {
  if (text.empty()) return false;
  for (const char c : text) {
    if (!detail::is_digit(c)) return false;
  }
  return true;
}

FinalResult error_result(FinalCode code, std::string_view detail_text) {
  FinalResult result{code, std::nullopt, std::string(trim(detail_text))};
  if (all_digits(result.text)) {
    std::size_t pos = 0;
    auto number = detail::parse_decimal(result.text, pos);
    if (number) result.error_number = number.value();
  }
  return result;
}

std::optional<FinalResult> final_result_of(std::string_view line) {
  if (line == "OK") return FinalResult{FinalCode::kOk, std::nullopt, {}};
  if (line == "ERROR") return FinalResult{FinalCode::kError, std::nullopt, {}};
  if (line == "NO CARRIER") return FinalResult{FinalCode::kNoCarrier, std::nullopt, {}};
  if (line == "BUSY") return FinalResult{FinalCode::kBusy, std::nullopt, {}};
  if (line == "NO ANSWER") return FinalResult{FinalCode::kNoAnswer, std::nullopt, {}};
  if (line == "NO DIALTONE") return FinalResult{FinalCode::kNoDialtone, std::nullopt, {}};
  if (line == "CONNECT") return FinalResult{FinalCode::kConnect, std::nullopt, {}};
  if (line.starts_with("CONNECT ")) {
    return FinalResult{FinalCode::kConnect, std::nullopt, std::string(trim(line.substr(8)))};
  }
  if (line.starts_with("+CME ERROR:")) return error_result(FinalCode::kCmeError, line.substr(11));
  if (line.starts_with("+CMS ERROR:")) return error_result(FinalCode::kCmsError, line.substr(11));
  return std::nullopt;
}

// "(0-4)", "(2,\"Op\",\"O\",\"12345\",7)": one token, commas inside do not split fields.
bool scan_group(std::string_view text, std::size_t& pos) {
  std::size_t depth = 0;
  while (pos < text.size()) {
    const char c = text[pos];
    if (c == '"') {
      auto skipped = detail::parse_quoted(text, pos);
      if (!skipped) return false;
      continue;
    }
    if (c == '(') {
      if (++depth > kMaxResponseNesting) return false;
    } else if (c == ')') {
      --depth;
      if (depth == 0) {
        ++pos;
        return true;
      }
    }
    ++pos;
  }
  return false;
}

}  // namespace

std::optional<std::vector<Parameter>> parse_response_fields(std::string_view untrusted_text) {
  std::vector<Parameter> fields;
  const std::string_view text = trim(untrusted_text);
  if (text.empty()) return fields;
  std::size_t pos = 0;
  auto skip_spaces = [&] {
    while (pos < text.size() && text[pos] == ' ') ++pos;
  };
  for (;;) {
    if (fields.size() >= kMaxResponseFields) return std::nullopt;
    skip_spaces();
    if (pos >= text.size() || text[pos] == ',') {
      fields.push_back(Parameter::empty());
    } else if (text[pos] == '"') {
      auto value = detail::parse_quoted(text, pos);
      if (!value) return std::nullopt;
      fields.push_back(Parameter::of_string(std::move(value).value()));
    } else if (text[pos] == '(') {
      const std::size_t start = pos;
      if (!scan_group(text, pos)) return std::nullopt;
      fields.push_back(Parameter::of_token(std::string(text.substr(start, pos - start))));
    } else {
      const std::size_t start = pos;
      while (pos < text.size() && text[pos] != ',' && text[pos] != '"') ++pos;
      const std::string_view token = trim(text.substr(start, pos - start));
      std::size_t digits_pos = 0;
      auto number = all_digits(token) ? detail::parse_decimal(token, digits_pos)
                                      : Result<std::uint32_t>(ParseError{});
      if (number) {
        fields.push_back(Parameter::of_number(number.value()));
      } else {
        fields.push_back(Parameter::of_token(std::string(token)));
      }
    }
    skip_spaces();
    if (pos >= text.size()) break;
    if (text[pos] != ',') return std::nullopt;
    ++pos;
    if (pos >= text.size()) {
      if (fields.size() >= kMaxResponseFields) return std::nullopt;
      fields.push_back(Parameter::empty());  // trailing ','
      break;
    }
  }
  return fields;
}

ResponseLine classify_response_line(std::string_view untrusted_line, const ResponseContext& context) {
  ResponseLine line;
  line.raw = std::string(untrusted_line);
  if (context.command_in_flight && !context.echo.empty() && untrusted_line == context.echo) {
    line.kind = ResponseKind::kEcho;
    return line;
  }
  if (auto final = final_result_of(untrusted_line)) {
    line.name = std::string(to_string(final->code));
    if (context.command_in_flight) {
      line.kind = ResponseKind::kFinal;
    } else if (final->code == FinalCode::kNoCarrier || final->code == FinalCode::kBusy ||
               final->code == FinalCode::kNoAnswer) {
      line.kind = ResponseKind::kUnsolicited;  // V.250 §5.7: the remote end hung up
    } else {
      line.kind = ResponseKind::kUnexpected;
    }
    line.final = std::move(final);
    return line;
  }
  if (!untrusted_line.empty() && detail::is_extended_prefix(untrusted_line[0])) {
    const std::size_t colon = untrusted_line.find(':');
    const std::string_view name = trim(untrusted_line.substr(0, colon));
    line.name.reserve(name.size());
    for (const char c : name) line.name.push_back(detail::to_upper(c));
    if (colon != std::string_view::npos) {
      auto fields = parse_response_fields(untrusted_line.substr(colon + 1));
      line.fields_valid = fields.has_value();
      if (fields) line.fields = std::move(*fields);
    }
  } else if (untrusted_line == "RING") {
    line.name = "RING";
  }
  if (context.command_in_flight && !line.name.empty() && line.name == context.command_name) {
    line.kind = ResponseKind::kInformation;
  } else if (is_unsolicited_name(line.name)) {
    line.kind = ResponseKind::kUnsolicited;
  } else if (context.command_in_flight) {
    line.kind = ResponseKind::kInformation;
  } else {
    line.kind = ResponseKind::kUnexpected;
  }
  return line;
}

bool has_body_line(const ResponseLine& header) noexcept {
  if (header.kind != ResponseKind::kInformation && header.kind != ResponseKind::kUnsolicited) {
    return false;
  }
  // A test response ("+CMGL: (\"REC UNREAD\",...)") lists values and has no body.
  if (!header.fields.empty() && header.fields[0].type == Parameter::Type::kToken &&
      header.fields[0].text.starts_with("(")) {
    return false;
  }
  if (header.name == "+CMT" || header.name == "+CMGR" || header.name == "+CMGL" ||
      header.name == "+CBM") {
    return true;
  }
  // +CDS carries a PDU line only in PDU mode, where its only field is <length>.
  return header.name == "+CDS" && header.fields.size() == 1 && header.fields[0].is_number();
}

}  // namespace twofold::modem::at
