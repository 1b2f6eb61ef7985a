// Latency the mediator adds per AT command: the same commands sent to the simulated modem
// directly and through the mediator (parse, policy, queue, canonical re-serialisation,
// response parse and filter), interleaved in the same run. Both sides are in-process, so
// the difference is the mediator's own cost; the serial line is the same either way.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "twofold/modem/mediator/mediator.h"
#include "twofold/modem/sim/modem.h"

namespace twofold::modem::mediator {
namespace {

using Clock = std::chrono::steady_clock;

class NullSink : public AuditSink {
 public:
  void record(audit::Event) override {}
};

// The simulator answers synchronously; bytes are handed over in a loop, never re-entrantly.
class Rig : public ModemPort, public PersonaPort {
 public:
  Rig() : mediator_(config(), *this, *this, sink_, NumberRedactor(policy::NumberLogging::omitted, {}), [](std::string_view) {}) {
    mediator_.start(Clock::now());
    settle();
    send(0, "ATE0\r");
    send(1, "ATE0\r");
  }
  void to_modem(std::string_view bytes) override { down_ += bytes; }
  void to_persona(PersonaIndex, std::string_view bytes) override { out_ += bytes; }

  // Returns once the final result reached the persona.
  void send(PersonaIndex persona, std::string_view line) {
    out_.clear();
    mediator_.from_persona(persona, line, Clock::now());
    settle();
    if (out_.find("OK\r\n") == std::string::npos && out_.find("ERROR") == std::string::npos) {
      throw std::runtime_error("mediated command got no final result: " + out_);
    }
  }

 private:
  static MediatorConfig config() {
    using policy::AtFamily;
    MediatorConfig c;
    const std::set<AtFamily> all = {AtFamily::call, AtFamily::sms, AtFamily::network, AtFamily::info};
    c.personas = {PersonaRights{"personal", all, true, true, std::nullopt}, PersonaRights{"secure", all, true, true, std::nullopt}};
    c.modem_policy.incoming_default.value = policy::RouteTarget{true, {}};
    return c;
  }
  void settle() {
    while (!down_.empty() || !up_.empty()) {
      if (!down_.empty()) modem_.receive(std::exchange(down_, {}));
      if (!up_.empty()) mediator_.from_modem(std::exchange(up_, {}), Clock::now());
    }
  }

  NullSink sink_;
  std::string down_, up_, out_;
  sim::Modem modem_{[this](std::string_view bytes) { up_ += bytes; }};
  Mediator mediator_;
};

class Direct {
 public:
  Direct() { modem_.receive("ATE0\r"); }
  void send(std::string_view line) {
    out_.clear();
    modem_.receive(line);
    if (out_.find("OK\r\n") == std::string::npos) throw std::runtime_error("direct command failed: " + out_);
  }

 private:
  std::string out_;
  sim::Modem modem_{[this](std::string_view bytes) { out_ += bytes; }};
};

double percentile(std::vector<double>& v, double p) {
  std::sort(v.begin(), v.end());
  return v[static_cast<std::size_t>(p * static_cast<double>(v.size() - 1))];
}

// A mix a phone's RIL sends: registration and signal polling, call list, identification.
constexpr std::array<std::string_view, 4> kCommands = {"AT+CSQ\r", "AT+CREG?\r", "AT+CLCC\r", "AT+CGMI\r"};

void BM_MediatorAddedLatency(benchmark::State& state) {
  Rig rig;
  Direct direct;
  std::vector<double> direct_us;
  std::vector<double> mediated_us;
  std::size_t i = 0;
  for (auto _ : state) {
    const std::string_view line = kCommands[i++ % kCommands.size()];
    const auto t0 = Clock::now();
    direct.send(line);
    const auto t1 = Clock::now();
    rig.send(i % 2, line);
    const auto t2 = Clock::now();
    direct_us.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
    mediated_us.push_back(std::chrono::duration<double, std::micro>(t2 - t1).count());
  }
  const double d50 = percentile(direct_us, 0.50), d99 = percentile(direct_us, 0.99);
  const double m50 = percentile(mediated_us, 0.50), m99 = percentile(mediated_us, 0.99);
  state.counters["direct_p50_us"] = d50;
  state.counters["direct_p99_us"] = d99;
  state.counters["mediated_p50_us"] = m50;
  state.counters["mediated_p99_us"] = m99;
  state.counters["added_p50_us"] = m50 - d50;
  state.counters["added_p99_us"] = m99 - d99;
  state.counters["ratio_p50"] = m50 / d50;
  state.counters["ratio_p99"] = m99 / d99;
}
BENCHMARK(BM_MediatorAddedLatency)->Iterations(20000)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace twofold::modem::mediator

BENCHMARK_MAIN();
