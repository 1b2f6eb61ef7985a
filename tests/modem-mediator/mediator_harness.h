#pragma once
// Two in-memory personas and the simulated modem around one Mediator. Bytes move between
// the parties only in run(), as they would between separate rings and a serial line, so
// no callback re-enters the mediator.
#include <array>
#include <chrono>
#include <string>
#include <vector>

#include "twofold/modem/mediator/mediator.h"
#include "twofold/modem/sim/modem.h"

namespace twofold::modem::mediator::testing {

inline constexpr PersonaIndex kPersonal = 0;
inline constexpr PersonaIndex kSecure = 1;

class CollectingSink : public AuditSink {
 public:
  void record(audit::Event event) override { events.push_back(std::move(event)); }
  std::size_t count(std::string_view kind) const {
    std::size_t n = 0;
    for (const auto& e : events) n += e.kind == kind ? 1 : 0;
    return n;
  }
  std::vector<audit::Event> events;
};

inline policy::Modem default_modem_policy(policy::RouteTarget fallback) {
  policy::Modem m;
  m.number_logging.value = policy::NumberLogging::clear;
  m.incoming_default.value = std::move(fallback);
  // Built in place: copying a half-set IncomingRoute trips GCC 12's maybe-uninitialized.
  policy::IncomingRoute& slot2 = m.routes.emplace_back();
  slot2.sim_slot = policy::Located<std::uint8_t>{2, {}};
  slot2.to.value = policy::RouteTarget{false, "secure"};
  return m;
}

inline MediatorConfig default_config(policy::RouteTarget fallback = {true, {}}) {
  using policy::AtFamily;
  MediatorConfig c;
  c.personas = {PersonaRights{"personal", {AtFamily::call, AtFamily::sms, AtFamily::network, AtFamily::supplementary, AtFamily::info},
                              true, true, std::nullopt},
                PersonaRights{"secure", {AtFamily::call, AtFamily::sms, AtFamily::network, AtFamily::supplementary, AtFamily::info},
                              true, true, std::nullopt}};
  c.modem_policy = default_modem_policy(std::move(fallback));
  c.command_timeout = std::chrono::milliseconds(1000);
  c.queue_capacity = 4;
  return c;
}

class Harness : public ModemPort, public PersonaPort {
 public:
  using Clock = Mediator::Clock;

  explicit Harness(MediatorConfig config = default_config(), sim::ModemOptions options = {})
      : modem([this](std::string_view bytes) { from_modem_ += bytes; }, std::move(options)),
        mediator_(std::move(config), *this, *this, audit, NumberRedactor(policy::NumberLogging::clear, {}),
                  [this](std::string_view line) { log.emplace_back(line); }) {
    mediator_.start(now);
    run();
  }

  void to_modem(std::string_view bytes) override {
    to_modem_ += bytes;
    modem_lines_seen_ += bytes;
  }
  void to_persona(PersonaIndex persona, std::string_view bytes) override { output[persona] += bytes; }

  // A persona writes; what the mediator does not take yet stays queued (its ring).
  void write(PersonaIndex persona, std::string_view bytes) { input_[persona] += bytes; }

  // Moves bytes until nothing moves; one_step: a single exchange each way.
  void run(bool one_step = false) {
    bool moved = true;
    while (moved) {
      moved = false;
      for (PersonaIndex p = 0; p < 2; ++p) {
        const std::size_t taken = mediator_.from_persona(p, input_[p], now);
        input_[p].erase(0, taken);
        moved = moved || taken != 0;
      }
      const std::string down = std::exchange(to_modem_, {});
      if (!down.empty()) modem.receive(down);
      const std::string up = std::exchange(from_modem_, {});
      if (!up.empty()) mediator_.from_modem(up, now);
      moved = moved || !down.empty() || !up.empty();
      if (one_step) return;
    }
  }

  void advance(std::chrono::milliseconds by) {
    now += by;
    mediator_.tick(now);
    run();
  }

  std::string take(PersonaIndex persona) { return std::exchange(output[persona], {}); }
  std::string take_modem_lines() { return std::exchange(modem_lines_seen_, {}); }
  // Sends one line and returns everything the persona got back once all is quiet.
  std::string command(PersonaIndex persona, std::string_view line) {
    take(persona);
    write(persona, std::string(line) + "\r");
    run();
    return take(persona);
  }
  std::size_t pending_input(PersonaIndex persona) const { return input_[persona].size(); }

  Mediator& mediator() { return mediator_; }

  Clock::time_point now{};
  CollectingSink audit;
  std::vector<std::string> log;
  std::array<std::string, 2> output;
  sim::Modem modem;

 private:
  std::string to_modem_;
  std::string from_modem_;
  std::string modem_lines_seen_;
  std::array<std::string, 2> input_;
  Mediator mediator_;
};

}  // namespace twofold::modem::mediator::testing
