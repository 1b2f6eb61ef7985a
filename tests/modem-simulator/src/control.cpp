#include "twofold/modem/sim/control.h"

#include <charconv>

namespace twofold::modem::sim {
namespace {

std::string_view next_word(std::string_view& rest) {
  while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
  const std::size_t end = rest.find(' ');
  const std::string_view word = rest.substr(0, end);
  rest.remove_prefix(end == std::string_view::npos ? rest.size() : end);
  while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
  return word;
}

std::optional<int> to_int(std::string_view word) {
  int value = 0;
  const auto [end, error] = std::from_chars(word.data(), word.data() + word.size(), value);
  if (error != std::errc{} || end != word.data() + word.size()) return std::nullopt;
  return value;
}

bool valid_number(std::string_view number) {
  if (number.empty() || number.size() > 20) return false;
  for (std::size_t i = 0; i < number.size(); ++i) {
    const char c = number[i];
    if (!((c >= '0' && c <= '9') || c == '*' || c == '#' || (c == '+' && i == 0))) return false;
  }
  return true;
}

std::string reply(const std::optional<std::string>& error) {
  return error ? "ERROR " + *error : "OK";
}

}  // namespace

std::string handle_control_line(Modem& modem, std::string_view line) {
  while (!line.empty() && (line.back() == '\r' || line.back() == '\n')) line.remove_suffix(1);
  if (line.size() > kMaxControlLineLength) return "ERROR line too long";
  std::string_view rest = line;
  const std::string_view verb = next_word(rest);
  if (verb == "call") {
    const std::string_view number = next_word(rest);
    if (!valid_number(number)) return "ERROR bad number";
    // Optional: the subscription's line that was called (reported as +CDIP).
    const std::string_view called_line = next_word(rest);
    if (!called_line.empty() && !valid_number(called_line)) return "ERROR bad called line";
    return reply(modem.incoming_call(number, called_line));
  }
  if (verb == "answer") return reply(modem.remote_answer());
  if (verb == "busy") return reply(modem.remote_busy());
  if (verb == "hangup") return reply(modem.remote_hangup());
  if (verb == "abandon") return reply(modem.remote_abandon());
  if (verb == "sms") {
    const std::string_view number = next_word(rest);
    if (!valid_number(number)) return "ERROR bad number";
    return reply(modem.incoming_sms(number, rest));
  }
  if (verb == "ussd") return reply(modem.incoming_ussd(rest));
  if (verb == "creg" || verb == "csq") {
    const auto value = to_int(next_word(rest));
    if (!value) return "ERROR bad value";
    return reply(verb == "creg" ? modem.set_registration(*value) : modem.set_signal(*value));
  }
  if (verb == "silent") {
    const std::string_view mode = next_word(rest);
    if (mode != "on" && mode != "off") return "ERROR expected on or off";
    modem.set_silent(mode == "on");
    return "OK";
  }
  if (verb == "reset") {
    modem.reset();
    return "OK";
  }
  if (verb == "state") return modem.state().dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return "ERROR unknown command";
}

}  // namespace twofold::modem::sim
