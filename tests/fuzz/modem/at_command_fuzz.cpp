// Guest-side AT stream: random bytes in random chunkings (sizes taken from the input), with
// the mediator's body-mode switching. Checks bounds and that chunking never changes events.
#include <fuzzer/FuzzedDataProvider.h>

#include <string>
#include <vector>

#include "twofold/modem/at/command_stream.h"
#include "twofold/modem/at/format.h"

namespace {

using namespace twofold::modem::at;

std::string describe(const CommandEvent& event) {
  struct Visitor {
    std::string operator()(const CommandLineEvent& e) const {
      std::string out = "L" + e.raw;
      for (const auto& c : e.line.commands) out += "|" + c.name + std::to_string(c.params.size());
      return out;
    }
    std::string operator()(const RepeatEvent&) const { return "R"; }
    std::string operator()(const SmsTextEvent& e) const { return "T" + e.body.text; }
    std::string operator()(const SmsPduEvent& e) const { return "P" + to_hex(e.body); }
    std::string operator()(const SmsCancelledEvent&) const { return "C"; }
    std::string operator()(const CommandErrorEvent& e) const {
      return "E" + std::to_string(static_cast<int>(e.error.reason)) + ":" + e.raw;
    }
  };
  return std::visit(Visitor{}, event);
}

void check_bounds(const CommandEvent& event) {
  if (const auto* line = std::get_if<CommandLineEvent>(&event)) {
    // What the mediator forwards must mean exactly what was parsed.
    const auto again = parse_command_line(format_command_line(line->line));
    if (!again.ok() || !(again.value() == line->line)) __builtin_trap();
    if (line->raw.size() > kMaxCommandLineLength) __builtin_trap();
    if (line->line.commands.size() > kMaxCommandLineLength) __builtin_trap();
    for (const auto& c : line->line.commands) {
      if (c.params.size() > kMaxParameters) __builtin_trap();
      if (c.dial.number.size() > kMaxDialStringLength) __builtin_trap();
    }
  } else if (const auto* text = std::get_if<SmsTextEvent>(&event)) {
    if (text->body.text.size() > kMaxSmsTextBodyLength) __builtin_trap();
  } else if (const auto* pdu = std::get_if<SmsPduEvent>(&event)) {
    if (pdu->body.tpdu.size() > kMaxTpduOctets || pdu->body.smsc.size() >= kMaxSmscOctets) __builtin_trap();
  } else if (const auto* error = std::get_if<CommandErrorEvent>(&event)) {
    if (error->raw.size() > kMaxPduHexLength && error->raw.size() > kMaxCommandLineLength) __builtin_trap();
  }
}

// The mediator's reaction: +CMGS/+CMGW switches to a body (text or PDU per pdu_mode).
void react(CommandStream& stream, const CommandEvent& event, bool pdu_mode) {
  const auto* line = std::get_if<CommandLineEvent>(&event);
  if (line == nullptr || line->line.commands.empty()) return;
  const Command& last = line->line.commands.back();
  if (last.name != "+CMGS" && last.name != "+CMGW") return;
  if (!pdu_mode) {
    stream.enter_text_body();
  } else if (!last.params.empty() && last.params[0].is_number()) {
    (void)stream.enter_pdu_body(last.params[0].number);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider provider(data, size);
  const bool pdu_mode = provider.ConsumeBool();
  std::vector<std::string> chunks;
  std::string whole;
  while (provider.remaining_bytes() > 0) {
    const auto length = provider.ConsumeIntegralInRange<std::size_t>(1, 97);
    chunks.push_back(provider.ConsumeBytesAsString(length));
    whole += chunks.back();
  }

  CommandStream chunked;
  std::vector<std::string> chunked_events;
  for (const auto& chunk : chunks) {
    chunked.feed(chunk, [&](CommandEvent&& event) {
      check_bounds(event);
      react(chunked, event, pdu_mode);
      chunked_events.push_back(describe(event));
    });
  }

  CommandStream single;
  std::vector<std::string> single_events;
  single.feed(whole, [&](CommandEvent&& event) {
    react(single, event, pdu_mode);
    single_events.push_back(describe(event));
  });
  if (chunked_events != single_events) __builtin_trap();
  if (chunked.has_partial_input() != single.has_partial_input()) __builtin_trap();

  (void)parse_command_line(whole);
  (void)parse_pdu_hex(whole);
  return 0;
}
