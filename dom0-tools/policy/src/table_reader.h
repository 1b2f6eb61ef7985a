#pragma once
// Typed, strict access to one TOML table. Every key asked for is remembered, so that
// finish() can report the keys nobody asked for as unknown, with a near-miss hint.
// Problems become findings in Diagnostics; the accessors return nullopt and never throw.
#include <cstdint>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <toml++/toml.h>

#include "diagnostics.h"
#include "near_miss.h"
#include "twofold/policy/policy.h"
#include "twofold/policy/rules.h"

namespace twofold::policy::detail {

enum class Presence { required, optional };

template <typename E>
struct Choice {
  std::string_view name;
  E value;
};

Location location_of(const toml::source_region& region) noexcept;
std::string_view type_name(toml::node_type type) noexcept;

class TableReader {
 public:
  // `context` names the table in messages, e.g. "[[persona]] 'secure'".
  TableReader(const toml::table& table, std::string context, Diagnostics& diagnostics);

  Location where() const noexcept;
  const std::string& context() const noexcept { return context_; }
  void set_context(std::string context) { context_ = std::move(context); }
  Diagnostics& diagnostics() const noexcept { return *diagnostics_; }

  // Position of `key`'s value if present, else of the table (for "missing" findings).
  Location location_of_key(std::string_view key) const noexcept;
  bool has(std::string_view key) const noexcept;

  std::optional<Located<std::string>> string(std::string_view key, Presence presence);
  std::optional<Located<bool>> boolean(std::string_view key, Presence presence);
  std::optional<Located<std::int64_t>> integer(std::string_view key, Presence presence,
                                               std::int64_t min, std::int64_t max);

  template <typename T>
  std::optional<Located<T>> integer_as(std::string_view key, Presence presence, std::int64_t min,
                                       std::int64_t max) {
    static_assert(std::numeric_limits<T>::is_integer);
    auto value = integer(key, presence, min, max);
    if (!value) return std::nullopt;
    // Safe: integer() has checked min..max, and every caller's range fits in T.
    return Located<T>{static_cast<T>(value->value), value->where};
  }

  // A string that must be one of `choices`.
  template <typename E>
  std::optional<Located<E>> choice(std::string_view key, Presence presence,
                                   std::span<const Choice<E>> choices) {
    auto text = string(key, presence);
    if (!text) return std::nullopt;
    for (const auto& option : choices) {
      if (option.name == text->value) return Located<E>{option.value, text->where};
    }
    std::vector<std::string_view> names;
    for (const auto& option : choices) names.push_back(option.name);
    report_bad_choice(key, *text, names);
    return std::nullopt;
  }

  // An array of strings; each element that is not a string is reported on its own.
  std::optional<std::vector<Located<std::string>>> strings(std::string_view key,
                                                           Presence presence,
                                                           std::size_t max_items);

  std::optional<TableReader> table(std::string_view key, Presence presence,
                                   std::string context);
  // An array of tables ([[key]]).
  std::vector<TableReader> tables(std::string_view key, Presence presence, std::size_t max_items,
                                  std::string_view context);

  // For keys that accept more than one type: marks the key as known and returns its node.
  const toml::node* node(std::string_view key);

  void report_wrong_type(std::string_view key, const toml::node& node, std::string_view expected,
                         std::string hint = {});
  void report_bad_choice(std::string_view key, const Located<std::string>& value,
                         std::span<const std::string_view> allowed);

  // Reports every key of the table that no accessor asked for.
  void finish();

 private:
  const toml::node* take(std::string_view key, Presence presence, std::string_view expected);

  const toml::table* table_;
  std::string context_;
  Diagnostics* diagnostics_;
  std::vector<std::string> known_;  // every key asked for, for finish() and hints
};

}  // namespace twofold::policy::detail
