// Parser throughput on realistic AT traffic, against a memchr line splitter over the same
// bytes measured in the same run (the floor any line-based parser pays).
#include <benchmark/benchmark.h>

#include <cstring>
#include <iostream>
#include <map>
#include <string>

#include "twofold/modem/at/command_stream.h"
#include "twofold/modem/at/response_stream.h"

namespace {

using namespace twofold::modem::at;

// What a phone OS sends: registration polling, call control, SMS in both modes.
std::string guest_traffic() {
  const std::string session =
      "ATE0V1\r\nAT+CMEE=1\r\nAT+CPIN?\r\nAT+CREG=2\r\nAT+CREG?\r\nAT+COPS?\r\nAT+CSQ\r\n"
      "AT+CLIP=1;+CRC=1\r\nATD+4930123456;\r\nAT+CLCC\r\nATH\r\nAT+CMGF=1\r\n"
      "AT+CSCS=\"GSM\"\r\nAT+CMGS=\"+4915112345678\"\rSee you at 8, bring the \"usual\"\x1a"
      "AT+CMGF=0\r\nAT+CMGS=23\r0011000B916407281553F80000AA0AE8329BFD4697D9EC37\x1a"
      "AT+CMGL=4\r\nAT+CMGR=3\r\nAT+CMGD=3\r\nAT+CPMS=\"SM\",\"SM\",\"SM\"\r\n";
  std::string traffic;
  while (traffic.size() < 64 * 1024) traffic += session;
  return traffic;
}

std::string modem_traffic() {
  const std::string session =
      "\r\nOK\r\n\r\n+CPIN: READY\r\n\r\nOK\r\n\r\n+CREG: 2,1,\"00C3\",\"A1B2C3\",7\r\n\r\nOK\r\n"
      "\r\n+COPS: 0,0,\"Twofold Net\",7\r\n\r\nOK\r\n\r\n+CSQ: 21,99\r\n\r\nOK\r\n"
      "\r\nRING\r\n\r\n+CLIP: \"+4930123456\",145,,,,0\r\n"
      "\r\n+CLCC: 1,0,0,0,0,\"+4930123456\",145\r\n\r\nOK\r\n"
      "\r\n+CMGL: 1,\"REC UNREAD\",\"+4915112345678\",,\"24/01/01,12:00:00+04\"\r\n"
      "See you at 8\r\n\r\nOK\r\n\r\n+CMTI: \"SM\",3\r\n\r\n+CMS ERROR: 321\r\n";
  std::string traffic;
  while (traffic.size() < 64 * 1024) traffic += session;
  return traffic;
}

void BM_MemchrLineSplit(benchmark::State& state, const std::string& traffic) {
  for (auto _ : state) {
    std::size_t lines = 0;
    const char* p = traffic.data();
    const char* end = p + traffic.size();
    while (const void* hit = std::memchr(p, '\r', static_cast<std::size_t>(end - p))) {
      p = static_cast<const char*>(hit) + 1;
      ++lines;
    }
    benchmark::DoNotOptimize(lines);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * traffic.size()));
}

void BM_CommandStream(benchmark::State& state) {
  const std::string traffic = guest_traffic();
  for (auto _ : state) {
    CommandStream stream;
    std::size_t events = 0;
    stream.feed(traffic, [&](CommandEvent&& event) {
      ++events;
      if (const auto* line = std::get_if<CommandLineEvent>(&event)) {
        for (const auto& command : line->line.commands) {
          if (command.name == "+CMGS" && !command.params.empty()) {
            if (command.params[0].is_number()) {
              (void)stream.enter_pdu_body(command.params[0].number);
            } else {
              stream.enter_text_body();
            }
          }
        }
      }
    });
    benchmark::DoNotOptimize(events);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * traffic.size()));
}

void BM_ResponseStream(benchmark::State& state) {
  const std::string traffic = modem_traffic();
  ResponseContext context;
  context.command_in_flight = true;
  context.command_name = "+CMGL";
  for (auto _ : state) {
    ResponseStream stream;
    stream.set_context(context);
    std::size_t events = 0;
    stream.feed(traffic, [&](ResponseEvent&&) { ++events; });
    benchmark::DoNotOptimize(events);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * traffic.size()));
}

// Keeps the console output and remembers each benchmark's bytes/s for the ratio lines.
class RatioReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const auto& run : runs) {
      const auto it = run.counters.find("bytes_per_second");
      if (it != run.counters.end()) rates_[run.benchmark_name()] = it->second.value;
    }
    ConsoleReporter::ReportRuns(runs);
  }
  double rate(const std::string& name) const {
    const auto it = rates_.find(name);
    return it == rates_.end() ? 0.0 : it->second;
  }

 private:
  std::map<std::string, double> rates_;
};

void print_ratio(const RatioReporter& reporter, const std::string& parser, const std::string& baseline) {
  const double parsed = reporter.rate(parser);
  const double floor = reporter.rate(baseline);
  if (parsed <= 0.0 || floor <= 0.0) return;  // filtered out on the command line
  std::cout << parser << ": " << parsed / 1e6 << " MB/s, " << floor / 1e6
            << " MB/s memchr baseline, ratio " << parsed / floor << "\n";
}

}  // namespace

int main(int argc, char** argv) {
  const std::string guest = guest_traffic();
  const std::string modem = modem_traffic();
  benchmark::RegisterBenchmark("BM_MemchrLineSplit/guest", BM_MemchrLineSplit, guest);
  benchmark::RegisterBenchmark("BM_CommandStream", BM_CommandStream);
  benchmark::RegisterBenchmark("BM_MemchrLineSplit/modem", BM_MemchrLineSplit, modem);
  benchmark::RegisterBenchmark("BM_ResponseStream", BM_ResponseStream);
  benchmark::Initialize(&argc, argv);
  RatioReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  print_ratio(reporter, "BM_CommandStream", "BM_MemchrLineSplit/guest");
  print_ratio(reporter, "BM_ResponseStream", "BM_MemchrLineSplit/modem");
  benchmark::Shutdown();
  return 0;
}
