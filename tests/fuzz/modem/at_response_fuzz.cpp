// Modem-side stream: random bytes, random chunkings and contexts taken from the input.
// Checks bounds and that chunking never changes the lines reported.
#include <fuzzer/FuzzedDataProvider.h>

#include <string>
#include <vector>

#include "twofold/modem/at/limits.h"
#include "twofold/modem/at/response_stream.h"

namespace {

using namespace twofold::modem::at;

std::string describe(const ResponseEvent& event) {
  if (const auto* error = std::get_if<ResponseErrorEvent>(&event)) {
    if (error->raw.size() > kMaxResponseLineLength) __builtin_trap();
    return "E" + std::to_string(static_cast<int>(error->error.reason)) + error->raw;
  }
  const auto& line = std::get<ResponseLine>(event);
  if (line.raw.size() > kMaxResponseLineLength) __builtin_trap();
  if (line.body && line.body->size() > kMaxResponseLineLength) __builtin_trap();
  if (line.fields.size() > kMaxResponseFields) __builtin_trap();
  std::string out = std::to_string(static_cast<int>(line.kind)) + line.name + "|" + line.raw;
  if (line.final) out += "|F" + std::to_string(static_cast<int>(line.final->code)) + line.final->text;
  if (line.body) out += "|B" + *line.body;
  for (const auto& f : line.fields) out += "," + f.text + std::to_string(f.number);
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider provider(data, size);
  static constexpr const char* kNames[] = {"", "+CREG", "+CMGL", "+CMGR", "+CLCC", "D", "+CMGS", "+CLIP"};
  ResponseContext context;
  context.command_in_flight = provider.ConsumeBool();
  context.command_name = kNames[provider.ConsumeIntegralInRange<std::size_t>(0, 7)];
  context.expect_prompt = provider.ConsumeBool();
  if (provider.ConsumeBool()) context.echo = "AT" + context.command_name;

  std::vector<std::string> chunks;
  std::string whole;
  while (provider.remaining_bytes() > 0) {
    const auto length = provider.ConsumeIntegralInRange<std::size_t>(1, 97);
    chunks.push_back(provider.ConsumeBytesAsString(length));
    whole += chunks.back();
  }

  ResponseStream chunked;
  chunked.set_context(context);
  std::vector<std::string> chunked_lines;
  for (const auto& chunk : chunks) {
    chunked.feed(chunk, [&](ResponseEvent&& event) { chunked_lines.push_back(describe(event)); });
  }
  ResponseStream single;
  single.set_context(context);
  std::vector<std::string> single_lines;
  single.feed(whole, [&](ResponseEvent&& event) { single_lines.push_back(describe(event)); });
  if (chunked_lines != single_lines) __builtin_trap();

  (void)classify_response_line(whole, context);
  (void)parse_response_fields(whole);
  return 0;
}
