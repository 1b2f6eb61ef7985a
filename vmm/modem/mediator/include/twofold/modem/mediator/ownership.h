#pragma once
// Who owns a call id or a message storage index of the physical modem, and the id each
// owner sees. Ids are remapped per persona so that a persona's numbering reveals nothing
// about the other's: its first call is call 1 even while the other persona holds call 1
// on the modem. Anything not owned is visible to nobody.
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <vector>

namespace twofold::modem::mediator {

using PersonaIndex = std::size_t;

class OwnershipTable {
 public:
  // Personas are 0..persona_count-1; each sees ids 1..max_visible_id.
  OwnershipTable(std::size_t persona_count, std::uint32_t max_visible_id);

  // Gives modem id `physical` to `persona` and returns the id it sees (the lowest free);
  // nullopt when the persona's visible ids are exhausted or the id already has an owner.
  std::optional<std::uint32_t> claim(PersonaIndex persona, std::uint32_t physical);
  // The same, under the id the persona asked for; nullopt when that id is taken or out of range.
  std::optional<std::uint32_t> claim_as(PersonaIndex persona, std::uint32_t physical, std::uint32_t visible);
  void release(std::uint32_t physical);
  void clear();

  std::optional<PersonaIndex> owner(std::uint32_t physical) const;
  std::optional<std::uint32_t> visible_id(PersonaIndex persona, std::uint32_t physical) const;
  std::optional<std::uint32_t> physical_id(PersonaIndex persona, std::uint32_t visible) const;
  std::vector<std::uint32_t> owned_by(PersonaIndex persona) const;  // physical ids
  bool owned_by_other(PersonaIndex persona) const;  // any id owned by another persona

 private:
  struct Entry {
    PersonaIndex persona;
    std::uint32_t visible;
  };
  std::size_t persona_count_;
  std::uint32_t max_visible_id_;
  std::map<std::uint32_t, Entry> by_physical_;
};

}  // namespace twofold::modem::mediator
