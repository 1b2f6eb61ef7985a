#pragma once
// Which guest commands may reach the shared physical modem. Pure: a parsed command in, a
// verdict out. Every command maps to exactly one policy family (docs/policy.md), is
// answered by the mediator itself, is reserved to dom0, or is unknown (refused).
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "twofold/modem/at/command.h"
#include "twofold/policy/policy.h"

namespace twofold::modem::mediator {

// What one persona may do, taken from its [persona.modem] table.
struct PersonaRights {
  std::string name;
  std::set<policy::AtFamily> families;
  bool dial = false;
  bool answer = false;
  std::optional<std::uint32_t> sms_per_hour;  // unset: no limit of the mediator's

  // nullopt when the persona has no [persona.modem]: it gets no modem channel at all.
  static std::optional<PersonaRights> from_policy(const policy::Persona& persona);
};

enum class Handling : std::uint8_t {
  kForward,   // sent to the physical modem (if the persona's family allows it)
  kLocal,     // answered by the mediator from the persona's virtual modem state
  kDom0Only,  // changes the modem for everyone: never from a guest
  kUnknown,   // not a command the mediator knows: refused
};

struct Classification {
  Handling handling = Handling::kUnknown;
  std::optional<policy::AtFamily> family;  // set for kForward
};

// The single table from command to family (docs/modem.md "Mediation policy").
Classification classify(const at::Command& command);

enum class RefusalReason : std::uint8_t {
  kUnknownCommand,
  kReservedToDom0,
  kFamilyNotAllowed,
  kDialNotAllowed,
  kAnswerNotAllowed,
  kSmsBudgetExhausted,  // the persona's sms_per_hour is spent for now
};
std::string_view to_string(RefusalReason reason) noexcept;

struct Refusal {
  RefusalReason reason{};
  std::size_t command_index = 0;  // which command of the line was refused
  std::optional<policy::AtFamily> family;
};

// The verdict on a whole line: a compound line is forwarded whole or not at all, so a
// refused command can never leave the modem half-configured by the ones before it.
struct LineVerdict {
  std::optional<Refusal> refusal;  // nullopt: allowed
  bool all_local = false;          // nothing to forward: the mediator answers alone
  bool allowed() const noexcept { return !refusal.has_value(); }
};

class CommandPolicy {
 public:
  explicit CommandPolicy(PersonaRights rights) : rights_(std::move(rights)) {}

  std::optional<Refusal> decide(const at::Command& command) const;
  LineVerdict decide(const at::CommandLine& line) const;
  const PersonaRights& rights() const noexcept { return rights_; }

 private:
  PersonaRights rights_;
};

// +CMEE of the persona's virtual modem: how errors are reported to it.
enum class ErrorFormat : std::uint8_t { kPlain = 0, kNumeric = 1, kVerbose = 2 };

// The final result sent for a refusal. Unknown commands get "ERROR" (V.250 §5.2.1);
// the rest "+CME ERROR: 3" / "operation not allowed" (27.007 §9.2.1) or ERROR.
std::string refusal_result(RefusalReason reason, ErrorFormat format);

}  // namespace twofold::modem::mediator
