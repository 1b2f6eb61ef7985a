// The residual timing channel of the shared modem (issue 13, docs/security.md): how much one
// persona's command latency changes with the other persona's use of the one physical line.
// Virtual time, 1 ms steps; the simulated modem answers each command after a modelled
// latency (the serial line plus the modem's own work): kCommandMs per command, kSubmitMs for
// an SMS submission (the network's round trip). The observer sends AT+CSQ every kProbeEveryMs
// and measures write-to-final; the other persona is idle, sends SMS back to back, or sends
// long compound lines back to back. Prints the figures docs/security.md quotes.
#include <algorithm>
#include <array>
#include <chrono>
#include <set>
#include <cstdio>
#include <deque>
#include <string>
#include <vector>

#include "twofold/modem/mediator/mediator.h"
#include "twofold/modem/sim/modem.h"

namespace twofold::modem::mediator {
namespace {

using Clock = Mediator::Clock;
using std::chrono::milliseconds;

constexpr int kCommandMs = 20;    // AT+CSQ-like: ~25 bytes each way at 115200 baud plus modem time
constexpr int kSubmitMs = 1500;   // +CMGS after Ctrl-Z: the network's answer
constexpr int kProbeEveryMs = 250;
constexpr int kProbes = 400;

class NullSink : public AuditSink {
 public:
  void record(audit::Event) override {}
};

enum class Other { kIdle, kSms, kLongLines };

class Rig : public ModemPort, public PersonaPort {
 public:
  explicit Rig(Other other) : other_(other), mediator_(config(), *this, *this, sink_,
                                                       NumberRedactor(policy::NumberLogging::omitted, {}),
                                                       [](std::string_view) {}) {
    mediator_.start(now_);
    for (int i = 0; i < 200; ++i) step();
    write(kObserver, "ATE0\r");
    write(kOther, "ATE0\rAT+CMGF=1\r");
    for (int i = 0; i < 200; ++i) step();
    output_[kObserver].clear();
    output_[kOther].clear();
  }
  void to_modem(std::string_view bytes) override {
    // The modem answers after its latency: a body ending in Ctrl-Z is a submission.
    const bool submit = bytes.find('\x1a') != std::string_view::npos;
    const auto due = now_ + milliseconds(submit ? kSubmitMs : kCommandMs);
    std::string answer;
    modem_.receive(bytes);
    answer = std::exchange(modem_out_, {});
    if (!answer.empty()) pending_.push_back({std::max(due, last_due_), std::move(answer)});
    last_due_ = std::max(due, last_due_);
  }
  void to_persona(PersonaIndex persona, std::string_view bytes) override { output_[persona] += bytes; }

  std::vector<int> measure() {
    std::vector<int> latencies;
    Clock::time_point next_probe = now_;
    // A flag beside the time, not std::optional: GCC 12 -O2 reports the optional's value as
    // maybe-uninitialized in the subtraction below (-Werror stopped the host build).
    bool waiting = false;
    Clock::time_point sent = now_;
    while (latencies.size() < static_cast<std::size_t>(kProbes)) {
      if (!waiting && now_ >= next_probe) {
        output_[kObserver].clear();
        write(kObserver, "AT+CSQ\r");
        sent = now_;
        waiting = true;
        next_probe = now_ + milliseconds(kProbeEveryMs);
      }
      keep_other_busy();
      step();
      if (waiting && output_[kObserver].find("\r\nOK\r\n") != std::string::npos) {
        latencies.push_back(static_cast<int>(std::chrono::duration_cast<milliseconds>(now_ - sent).count()));
        waiting = false;
      }
    }
    return latencies;
  }
  std::uint64_t other_finals() const { return other_finals_; }

 private:
  static constexpr PersonaIndex kObserver = 0;
  static constexpr PersonaIndex kOther = 1;
  struct Due {
    Clock::time_point at;
    std::string bytes;
  };

  static MediatorConfig config() {
    using policy::AtFamily;
    MediatorConfig c;
    const std::set<AtFamily> all = {AtFamily::call, AtFamily::sms, AtFamily::network, AtFamily::info};
    c.personas = {PersonaRights{"personal", all, true, true, std::nullopt},
                  PersonaRights{"secure", all, true, true, std::nullopt}};
    c.modem_policy.incoming_default.value = policy::RouteTarget{true, {}};
    return c;
  }
  void write(PersonaIndex p, std::string_view bytes) { input_[p] += bytes; }
  void keep_other_busy() {
    // A new line as soon as the last one is answered: the other persona's heaviest use.
    if (other_ == Other::kIdle || other_waiting_) return;
    if (other_ == Other::kSms) {
      write(kOther, "AT+CMGS=\"+4917012345\"\rtiming probe text\x1a");
    } else {
      write(kOther, "AT+CGMI;+CGMM;+CGMR;+CGSN;+CSQ;+CREG?;+COPS?;+CGMI\r");
    }
    other_waiting_ = true;
  }
  void step() {
    now_ += milliseconds(1);
    while (!pending_.empty() && pending_.front().at <= now_) {
      const std::string bytes = std::move(pending_.front().bytes);
      pending_.pop_front();
      mediator_.from_modem(bytes, now_);
    }
    mediator_.tick(now_);
    for (PersonaIndex p = 0; p < 2; ++p) {
      const std::size_t taken = mediator_.from_persona(p, input_[p], now_);
      input_[p].erase(0, taken);
    }
    if (other_waiting_ && (output_[kOther].find("\r\nOK\r\n") != std::string::npos ||
                           output_[kOther].find("ERROR") != std::string::npos)) {
      output_[kOther].clear();
      other_waiting_ = false;
      ++other_finals_;
    }
  }

  Other other_;
  NullSink sink_;
  Clock::time_point now_{};
  Clock::time_point last_due_{};
  std::deque<Due> pending_;
  std::string modem_out_;
  sim::Modem modem_{[this](std::string_view bytes) { modem_out_ += bytes; }};
  std::array<std::string, 2> input_, output_;
  bool other_waiting_ = false;
  std::uint64_t other_finals_ = 0;
  Mediator mediator_;
};

int percentile(std::vector<int> v, double q) {
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<std::size_t>(q * static_cast<double>(v.size())))];
}

}  // namespace
}  // namespace twofold::modem::mediator

int main() {
  using namespace twofold::modem::mediator;
  std::printf("modem timing channel: virtual time, modem latency %d ms per command, %d ms per SMS submission;\n"
              "observer AT+CSQ every %d ms, %d probes per case\n",
              kCommandMs, kSubmitMs, kProbeEveryMs, kProbes);
  struct Case {
    const char* name;
    Other other;
  };
  int idle_max = 0;
  for (const Case& c : {Case{"other persona idle", Other::kIdle}, Case{"other sends SMS back to back", Other::kSms},
                        Case{"other sends 8-command lines back to back", Other::kLongLines}}) {
    Rig rig(c.other);
    const std::vector<int> l = rig.measure();
    const int mx = *std::max_element(l.begin(), l.end());
    if (c.other == Other::kIdle) idle_max = mx;
    std::printf("  %-42s p50 %5d ms  p99 %5d ms  max %5d ms  (extra over idle max: %d ms; other's lines answered: %llu)\n",
                c.name, percentile(l, 0.5), percentile(l, 0.99), mx, mx - idle_max,
                static_cast<unsigned long long>(rig.other_finals()));
  }
  std::printf("bound: one turn of the other persona (one command, or +CMGF and its SMS command), at most\n"
              "command_timeout (10 s) per command of it; a compound line never holds the line for more than one turn\n");
  return 0;
}
