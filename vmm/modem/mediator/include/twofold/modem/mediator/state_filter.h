#pragma once
// Per-persona view of the shared modem's call state and message storage: commands that
// name a call id or a storage index are rewritten from the persona's ids to the modem's
// (or refused when the persona does not own one), and responses that list calls or
// messages are filtered down to the persona's own, with its ids.
#include <cstdint>
#include <optional>
#include <string>
#include <variant>

#include "twofold/modem/at/command.h"
#include "twofold/modem/at/response.h"
#include "twofold/modem/mediator/ownership.h"

namespace twofold::modem::mediator {

// 27.007 §7.18 allows call ids 1..7 per modem; 27.005 indices are limited by storage.
inline constexpr std::uint32_t kMaxVisibleCalls = 7;
inline constexpr std::uint32_t kMaxVisibleMessages = 255;

// Text of the final result the persona gets instead of forwarding.
struct LocalError {
  std::string result;
};
using Rewritten = std::variant<at::Command, LocalError>;

// "NAME: f1,f2": numbers and tokens as they are, strings re-quoted (so a quote or control
// byte inside one cannot break the line the persona parses).
std::string format_response(const std::string& name, const std::vector<at::Parameter>& fields);

class StateFilter {
 public:
  explicit StateFilter(std::size_t persona_count);

  // Before forwarding: ids in +CMGR/+CMGD/+CHLD translated; commands that act on every
  // call (ATH, +CHUP, +CHLD without id) refused while the other persona has a call; ATA
  // refused unless the ringing call was routed to this persona.
  Rewritten rewrite(PersonaIndex persona, const at::Command& command) const;

  // Every +CLCC line seen from the modem (whoever asked): unowned calls are adopted by the
  // persona that dialled (outgoing) or that the incoming call was routed to.
  void observe_call_line(const at::ResponseLine& line);
  // An information line for `persona`'s command in flight: nullopt drops it; otherwise the
  // text to send (with "\r\n" + body for listings).
  std::optional<std::string> filter_information(PersonaIndex persona, const at::ResponseLine& line);
  // The final result of `persona`'s command: +CLCC listings release calls no longer
  // listed, a successful +CMGD releases the index, a failed dial forgets the dialler.
  void on_final(PersonaIndex persona, const at::Command& command, const at::FinalResult& result);

  // Incoming call routing state (set by the URC router).
  void set_incoming_owner(std::optional<PersonaIndex> persona) { incoming_owner_ = persona; }
  std::optional<PersonaIndex> incoming_owner() const noexcept { return incoming_owner_; }
  void note_dial(PersonaIndex persona) { dialling_ = persona; }
  std::optional<PersonaIndex> dialling() const noexcept { return dialling_; }

  // +CMTI of a message routed to `persona`: the index it sees, nullopt if none is free.
  std::optional<std::uint32_t> claim_message(PersonaIndex persona, std::uint32_t physical_index);
  // The modem reset or was re-initialised: calls are gone, storage is kept.
  void forget_calls();

  const OwnershipTable& calls() const noexcept { return calls_; }
  const OwnershipTable& messages() const noexcept { return messages_; }

 private:
  Rewritten rewrite_index(PersonaIndex persona, const at::Command& command) const;
  Rewritten rewrite_chld(PersonaIndex persona, const at::Command& command) const;

  std::size_t persona_count_;
  OwnershipTable calls_;
  OwnershipTable messages_;
  std::optional<PersonaIndex> incoming_owner_;
  std::optional<PersonaIndex> dialling_;
  std::vector<std::uint32_t> listed_calls_;  // physical ids in the current +CLCC listing
  bool ringing_listed_ = false;              // the listing shows an incoming/waiting call
};

}  // namespace twofold::modem::mediator
