#pragma once
// Per-persona phonebooks on the modem's one SIM phonebook ("SM"). An entry belongs to the
// persona that wrote it and is shown to it under its own index (1..kMaxVisiblePhonebookEntries);
// entries of the other persona, and entries no persona wrote (dom0's, or the SIM's from
// before), are shown to nobody. A persona never names a physical index: reads are narrowed
// to the span of its own entries and filtered, writes to a new index go to the modem's first
// free slot (27.007 +CPBW: <written_index> tells which), deletes only reach its own entries.
// A persona without the phonebook family has no phonebook at all (CommandPolicy refuses it).
#include <cstdint>
#include <optional>
#include <string>

#include "twofold/modem/at/command.h"
#include "twofold/modem/at/response.h"
#include "twofold/modem/mediator/ownership.h"
#include "twofold/modem/mediator/state_filter.h"

namespace twofold::modem::mediator {

inline constexpr std::uint32_t kMaxVisiblePhonebookEntries = 250;

class PhonebookFilter {
 public:
  explicit PhonebookFilter(std::size_t persona_count);

  // +CPBR, +CPBW, +CPBF (+CPBS is local: the storage is always "SM").
  static bool handles(const at::Command& command);

  // Before forwarding: the command in the modem's indices, or the answer given locally.
  Rewritten rewrite(PersonaIndex persona, const at::Command& command);
  // An information line of the phonebook command in flight: nullopt drops it.
  std::optional<std::string> filter_information(PersonaIndex persona, const at::ResponseLine& line);
  void on_final(PersonaIndex persona, const at::FinalResult& result);

  const OwnershipTable& entries() const noexcept { return entries_; }

 private:
  std::optional<std::string> rewrite_range(const at::ResponseLine& line) const;

  OwnershipTable entries_;
  // What the command in flight asked for.
  at::CommandForm form_ = at::CommandForm::kAction;
  std::uint32_t read_first_ = 0, read_last_ = 0;  // visible range of +CPBR
  struct PendingWrite {
    std::optional<std::uint32_t> visible;  // the index the persona asked for, if any
    bool report = false;                   // the persona omitted the index: tell it which
  };
  std::optional<PendingWrite> write_;
  std::optional<std::uint32_t> delete_physical_;
};

}  // namespace twofold::modem::mediator
