#include "twofold/modem/mediator/ownership.h"

#include <set>

namespace twofold::modem::mediator {

OwnershipTable::OwnershipTable(std::size_t persona_count, std::uint32_t max_visible_id)
    : persona_count_(persona_count), max_visible_id_(max_visible_id) {}

std::optional<std::uint32_t> OwnershipTable::claim(PersonaIndex persona, std::uint32_t physical) {
  if (persona >= persona_count_ || by_physical_.count(physical) != 0) return std::nullopt;
  std::set<std::uint32_t> used;
  for (const auto& [id, entry] : by_physical_) {
    if (entry.persona == persona) used.insert(entry.visible);
  }
  for (std::uint32_t visible = 1; visible <= max_visible_id_; ++visible) {
    if (used.count(visible) == 0) {
      by_physical_.emplace(physical, Entry{persona, visible});
      return visible;
    }
  }
  return std::nullopt;
}

std::optional<std::uint32_t> OwnershipTable::claim_as(PersonaIndex persona, std::uint32_t physical,
                                                     std::uint32_t visible) {
  if (persona >= persona_count_ || visible == 0 || visible > max_visible_id_ || by_physical_.count(physical) != 0 ||
      physical_id(persona, visible)) {
    return std::nullopt;
  }
  by_physical_.emplace(physical, Entry{persona, visible});
  return visible;
}

void OwnershipTable::release(std::uint32_t physical) { by_physical_.erase(physical); }
void OwnershipTable::clear() { by_physical_.clear(); }

std::optional<PersonaIndex> OwnershipTable::owner(std::uint32_t physical) const {
  const auto it = by_physical_.find(physical);
  if (it == by_physical_.end()) return std::nullopt;
  return it->second.persona;
}

std::optional<std::uint32_t> OwnershipTable::visible_id(PersonaIndex persona, std::uint32_t physical) const {
  const auto it = by_physical_.find(physical);
  if (it == by_physical_.end() || it->second.persona != persona) return std::nullopt;
  return it->second.visible;
}

std::optional<std::uint32_t> OwnershipTable::physical_id(PersonaIndex persona, std::uint32_t visible) const {
  for (const auto& [id, entry] : by_physical_) {
    if (entry.persona == persona && entry.visible == visible) return id;
  }
  return std::nullopt;
}

std::vector<std::uint32_t> OwnershipTable::owned_by(PersonaIndex persona) const {
  std::vector<std::uint32_t> ids;
  for (const auto& [id, entry] : by_physical_) {
    if (entry.persona == persona) ids.push_back(id);
  }
  return ids;
}

bool OwnershipTable::owned_by_other(PersonaIndex persona) const {
  for (const auto& [id, entry] : by_physical_) {
    if (entry.persona != persona) return true;
  }
  return false;
}

}  // namespace twofold::modem::mediator
