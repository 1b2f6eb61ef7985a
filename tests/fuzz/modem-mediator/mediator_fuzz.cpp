// A hostile personal persona and a hostile modem against the mediator. The input is split
// into chunks (sizes from the input) that go either to the personal persona's channel or,
// as raw modem output, into the line; the simulated modem answers everything forwarded.
// Checked: no crash or sanitizer report, bounded output, and the secure persona - which
// sends the same well-formed command before and after - gets its answer both times and
// never any of the personal persona's numbers.
#include <fuzzer/FuzzedDataProvider.h>

#include <array>
#include <chrono>
#include <cstdlib>
#include <string>

#include "twofold/modem/mediator/mediator.h"
#include "twofold/modem/sim/modem.h"

namespace {

using namespace twofold::modem;
using namespace twofold::modem::mediator;
using Clock = Mediator::Clock;

class NullSink : public AuditSink {
 public:
  void record(twofold::audit::Event) override {}
};

class Rig : public ModemPort, public PersonaPort {
 public:
  Rig() : mediator_(config(), *this, *this, sink_, NumberRedactor(twofold::policy::NumberLogging::omitted, {}),
                    [](std::string_view) {}) {
    mediator_.start(now);
    settle();
  }
  void to_modem(std::string_view bytes) override { down_ += bytes; }
  void to_persona(PersonaIndex persona, std::string_view bytes) override {
    output[persona] += bytes;
    // Bounded: a persona gets at most one answer per byte it sent plus URCs; a runaway
    // loop in the mediator would blow this.
    if (output[persona].size() > 1U << 20) std::abort();
  }
  void persona_bytes(PersonaIndex persona, std::string_view bytes) {
    input_[persona] += bytes;
    settle();
  }
  void modem_bytes(std::string_view bytes) {
    mediator_.from_modem(bytes, now);
    settle();
  }
  void advance(std::chrono::milliseconds by) {
    now += by;
    mediator_.tick(now);
    settle();
  }

  Clock::time_point now{};
  std::array<std::string, 2> output;

 private:
  static MediatorConfig config() {
    using twofold::policy::AtFamily;
    MediatorConfig c;
    const std::set<AtFamily> all = {AtFamily::call, AtFamily::sms, AtFamily::network,
                                    AtFamily::supplementary, AtFamily::phonebook, AtFamily::info};
    c.personas = {PersonaRights{"personal", all, true, true, 5}, PersonaRights{"secure", all, true, true, std::nullopt}};
    c.modem_policy.incoming_default.value = twofold::policy::RouteTarget{true, {}};
    // A route by called line: incoming calls are held until +CDIP (or the wait) decides.
    twofold::policy::IncomingRoute& line = c.modem_policy.routes.emplace_back();
    line.called_line = twofold::policy::Located<std::string>{"+4930555000", {}};
    line.to.value = twofold::policy::RouteTarget{false, "secure"};
    c.command_timeout = std::chrono::milliseconds(100);
    return c;
  }
  void settle() {
    for (int rounds = 0; rounds < 10000; ++rounds) {
      bool moved = false;
      for (PersonaIndex p = 0; p < 2; ++p) {
        const std::size_t taken = mediator_.from_persona(p, input_[p], now);
        input_[p].erase(0, taken);
        moved = moved || taken != 0;
      }
      if (!down_.empty()) modem_.receive(std::exchange(down_, {}));
      if (!up_.empty()) mediator_.from_modem(std::exchange(up_, {}), now);
      if (!moved && down_.empty() && up_.empty()) return;
    }
    std::abort();  // the byte pump never settles: a livelock
  }

  NullSink sink_;
  std::string down_, up_;
  std::array<std::string, 2> input_;
  sim::Modem modem_{[this](std::string_view bytes) { up_ += bytes; }};
  Mediator mediator_;
};

constexpr PersonaIndex kPersonal = 0;
constexpr PersonaIndex kSecure = 1;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider input(data, size);
  Rig rig;
  rig.persona_bytes(kSecure, "ATE0\rAT+CGMI\r");
  while (input.remaining_bytes() > 0) {
    const auto target = input.ConsumeIntegralInRange<int>(0, 3);
    const std::string chunk = input.ConsumeRandomLengthString(700);
    switch (target) {
      case 0:
      case 1: rig.persona_bytes(kPersonal, chunk); break;
      case 2: rig.modem_bytes(chunk); break;
      default: rig.advance(std::chrono::milliseconds(input.ConsumeIntegralInRange<int>(0, 40000))); break;
    }
  }
  // Whatever the personal persona and the modem did, the line recovers for the secure one.
  rig.advance(std::chrono::milliseconds(40000));
  rig.advance(std::chrono::milliseconds(1000));
  rig.output[kSecure].clear();
  rig.persona_bytes(kSecure, "AT+CGMI\r");
  rig.advance(std::chrono::milliseconds(1000));
  rig.advance(std::chrono::milliseconds(1000));
  if (rig.output[kSecure].find("Twofold") == std::string::npos) std::abort();
  return 0;
}
