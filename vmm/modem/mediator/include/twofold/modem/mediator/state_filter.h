#pragma once
// Per-persona view of the shared modem's call state and message storage: commands that
// name a call id or a storage index are rewritten from the persona's ids to the modem's
// (or refused when the persona does not own one), and responses that list calls or
// messages are filtered down to the persona's own, with its ids.
#include <cstdint>
#include <map>
#include <utility>
#include <vector>
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

  // Before forwarding: ids in +CMGR/+CMGD/+CHLD translated. The modem has one voice channel,
  // held by at most one persona at a time (voice_holder()); every call command is answered
  // as the persona's own modem alone would answer it: ATH/+CHUP without a call of its own
  // are OK (nothing sent), +CHLD/+VTS without one +CME ERROR: 3, ATA without a call ringing
  // for it NO CARRIER, a dial while the other persona holds the channel NO CARRIER (the one
  // contention docs/security.md states). With the channel its own, the persona is alone on it.
  Rewritten rewrite(PersonaIndex persona, const at::Command& command) const;
  // The persona whose calls are on the modem (owned, ringing for it, or being dialled).
  std::optional<PersonaIndex> voice_holder() const;

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

  // +CMTI of a message routed to `persona`: the index it sees, nullopt if none is free or the
  // persona's quota is used up.
  std::optional<std::uint32_t> claim_message(PersonaIndex persona, std::uint32_t physical_index);
  // 27.005 <stat> of a message (0 REC UNREAD .. 3 STO SENT), as last seen.
  void set_message_status(std::uint32_t physical_index, std::uint32_t status);
  std::uint32_t message_status(std::uint32_t physical_index) const;
  // The persona's own messages, in its index order: (visible, physical).
  std::vector<std::pair<std::uint32_t, std::uint32_t>> own_messages(PersonaIndex persona) const;
  std::uint32_t message_quota() const noexcept { return quota_; }
  void set_message_quota(std::uint32_t quota) noexcept { quota_ = quota; }
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
  std::map<std::uint32_t, std::uint32_t> message_status_;  // physical index -> <stat>
  std::uint32_t quota_ = kMaxVisibleMessages;
  std::vector<std::uint32_t> listed_calls_;  // physical ids in the current +CLCC listing
  bool ringing_listed_ = false;              // the listing shows an incoming/waiting call
};

}  // namespace twofold::modem::mediator
