// Both personas hostile at once (issue 13; mediator_fuzz drives only the personal one), plus
// network events (SMS and calls for either persona, hang-ups, abandoned rings, USSD) and
// time jumps, in an order and chunking chosen by the input; optionally hostile modem bytes.
// Checked: no crash or sanitizer report, bounded output, the byte pump settles, and each
// persona's SMS text and caller numbers (markers only the network sends to it) never reach
// the other persona unless that persona typed them itself or the modem bytes held them.
// Afterwards both personas still get their AT+CGMI answered.
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

constexpr PersonaIndex kPersonal = 0;
constexpr PersonaIndex kSecure = 1;
// What the network sends to each persona only: its SMS text and its callers' numbers.
constexpr std::array<std::string_view, 2> kTextMarker = {"PERSONALTEXT", "SECURETEXT"};
constexpr std::array<std::string_view, 2> kNumberMarker = {"+4911177", "+4922277"};

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
    if (output[persona].size() > 1U << 20) std::abort();  // a runaway answer loop
  }
  void persona_bytes(PersonaIndex persona, std::string_view bytes) {
    typed[persona] += bytes;
    input_[persona] += bytes;
    settle();
  }
  void modem_bytes(std::string_view bytes) {
    forged += bytes;
    mediator_.from_modem(bytes, now);
    settle();
  }
  void network(std::uint8_t event, PersonaIndex to) {
    mediator_.set_foreground(to);
    const std::string number = std::string(kNumberMarker[to]) + std::to_string(event % 10);
    switch (event % 6) {
      case 0: (void)modem.incoming_sms(number, std::string(kTextMarker[to]) + " for you"); break;
      case 1: (void)modem.incoming_call(number); break;
      case 2: (void)modem.remote_answer(); break;
      case 3: (void)modem.remote_hangup(); break;
      case 4: (void)modem.remote_abandon(); break;
      default: modem.ring_tick(); break;
    }
    settle();
  }
  void advance(std::chrono::milliseconds by) {
    now += by;
    mediator_.tick(now);
    settle();
  }
  // A marker of `other` seen by `persona`, and not explained by its own input or forged bytes.
  bool leaked(PersonaIndex persona, PersonaIndex other) const {
    for (std::string_view marker : {kTextMarker[other], kNumberMarker[other]}) {
      if (output[persona].find(marker) != std::string::npos && typed[persona].find(marker) == std::string::npos &&
          forged.find(marker) == std::string::npos) {
        return true;
      }
    }
    return false;
  }

  Clock::time_point now{};
  std::array<std::string, 2> output, typed;
  std::string forged;
  sim::Modem modem{[this](std::string_view bytes) { up_ += bytes; }, options()};

 private:
  static sim::ModemOptions options() {
    sim::ModemOptions o;
    o.call_waiting = true;
    o.indicators = true;
    return o;
  }
  static MediatorConfig config() {
    using twofold::policy::AtFamily;
    MediatorConfig c;
    const std::set<AtFamily> all = {AtFamily::call, AtFamily::sms, AtFamily::network, AtFamily::data, AtFamily::sim,
                                    AtFamily::supplementary, AtFamily::phonebook, AtFamily::info};
    c.personas = {PersonaRights{"personal", all, true, true, 20}, PersonaRights{"secure", all, true, true, 20}};
    c.modem_policy.incoming_default.value = twofold::policy::RouteTarget{true, {}};
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
      if (!down_.empty()) modem.receive(std::exchange(down_, {}));
      if (!up_.empty()) mediator_.from_modem(std::exchange(up_, {}), now);
      if (!moved && down_.empty() && up_.empty()) return;
    }
    std::abort();  // the byte pump never settles: a livelock
  }

  NullSink sink_;
  std::string down_, up_;
  std::array<std::string, 2> input_;
  Mediator mediator_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider input(data, size);
  Rig rig;
  // Caller id and text mode on for both, so that the markers flow wherever they are sent.
  for (PersonaIndex p : {kPersonal, kSecure}) rig.persona_bytes(p, "ATE0\rAT+CLIP=1;+CMGF=1;+CCWA=1\r");
  while (input.remaining_bytes() > 0) {
    const auto target = input.ConsumeIntegralInRange<int>(0, 7);
    switch (target) {
      case 0:
      case 1:
      case 2: rig.persona_bytes(kPersonal, input.ConsumeRandomLengthString(400)); break;
      case 3:
      case 4: rig.persona_bytes(kSecure, input.ConsumeRandomLengthString(400)); break;
      case 5: {
        const auto event = input.ConsumeIntegral<std::uint8_t>();
        rig.network(event, input.ConsumeBool() ? kSecure : kPersonal);
        break;
      }
      case 6: rig.advance(std::chrono::milliseconds(input.ConsumeIntegralInRange<int>(0, 20000))); break;
      default: rig.modem_bytes(input.ConsumeRandomLengthString(200)); break;
    }
    if (rig.leaked(kPersonal, kSecure) || rig.leaked(kSecure, kPersonal)) std::abort();
  }
  // Whatever both did, the line recovers for each of them.
  rig.advance(std::chrono::milliseconds(40000));
  rig.advance(std::chrono::milliseconds(1000));
  for (PersonaIndex p : {kPersonal, kSecure}) {
    rig.output[p].clear();
    // ESC ends a half-typed SMS body, CR a half line; then a command of its own.
    rig.persona_bytes(p, "\x1b\rAT+CGMI\r");
    rig.advance(std::chrono::milliseconds(1000));
    rig.advance(std::chrono::milliseconds(1000));
    if (rig.output[p].find("Twofold") == std::string::npos) std::abort();
  }
  return 0;
}
