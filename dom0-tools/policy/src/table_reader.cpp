#include "table_reader.h"

#include <algorithm>
#include <cstddef>

#include "text.h"

namespace twofold::policy::detail {
namespace {

std::string join(std::span<const std::string_view> words) {
  std::string out;
  for (const auto word : words) {
    if (!out.empty()) out += ", ";
    out += '\'';
    out += word;
    out += '\'';
  }
  return out;
}

}  // namespace

Location location_of(const toml::source_region& region) noexcept {
  return Location{region.begin.line, region.begin.column};
}

std::string_view type_name(toml::node_type type) noexcept {
  switch (type) {
    case toml::node_type::none: return "nothing";
    case toml::node_type::table: return "a table";
    case toml::node_type::array: return "an array";
    case toml::node_type::string: return "a string";
    case toml::node_type::integer: return "an integer";
    case toml::node_type::floating_point: return "a floating-point number";
    case toml::node_type::boolean: return "a boolean";
    case toml::node_type::date: return "a date";
    case toml::node_type::time: return "a time";
    case toml::node_type::date_time: return "a date-time";
  }
  return "an unknown type";
}

TableReader::TableReader(const toml::table& table, std::string context, Diagnostics& diagnostics)
    : table_(&table), context_(std::move(context)), diagnostics_(&diagnostics) {}

Location TableReader::where() const noexcept {
  const Location here = location_of(table_->source());
  // The root table and implicit tables have no position of their own.
  return here.line == 0 ? Location{1, 1} : here;
}

bool TableReader::has(std::string_view key) const noexcept { return table_->contains(key); }

Location TableReader::location_of_key(std::string_view key) const noexcept {
  if (const toml::node* found = table_->get(key)) {
    const Location here = location_of(found->source());
    if (here.line != 0) return here;
  }
  return where();
}

const toml::node* TableReader::take(std::string_view key, Presence presence,
                                    std::string_view expected) {
  known_.emplace_back(key);
  const toml::node* found = table_->get(key);
  if (found == nullptr && presence == Presence::required) {
    diagnostics_->error(rule::kMissingKey, where(),
                        "missing required key '" + std::string(key) + "' in " + context_,
                        "add `" + std::string(key) + " = ...` (" + std::string(expected) + ")");
  }
  return found;
}

const toml::node* TableReader::node(std::string_view key) {
  known_.emplace_back(key);
  return table_->get(key);
}

void TableReader::report_wrong_type(std::string_view key, const toml::node& found,
                                    std::string_view expected, std::string hint) {
  if (hint.empty()) hint = "write " + std::string(expected);
  diagnostics_->error(rule::kWrongType, location_of(found.source()),
                      "'" + std::string(key) + "' in " + context_ + " must be " +
                          std::string(expected) + ", not " + std::string(type_name(found.type())),
                      std::move(hint));
}

void TableReader::report_bad_choice(std::string_view key, const Located<std::string>& value,
                                    std::span<const std::string_view> allowed) {
  std::string hint;
  if (const auto near = closest_match(value.value, allowed)) {
    hint = "did you mean '" + std::string(*near) + "'?";
  } else {
    hint = "use one of " + join(allowed);
  }
  diagnostics_->error(rule::kInvalidValue, value.where,
                      excerpt(value.value) + " is not a valid value for '" + std::string(key) +
                          "' in " + context_,
                      std::move(hint));
}

std::optional<Located<std::string>> TableReader::string(std::string_view key, Presence presence) {
  const toml::node* found = take(key, presence, "a string");
  if (found == nullptr) return std::nullopt;
  if (const auto* text = found->as_string()) {
    return Located<std::string>{text->get(), location_of(found->source())};
  }
  report_wrong_type(key, *found, "a string", "put the value in double quotes");
  return std::nullopt;
}

std::optional<Located<bool>> TableReader::boolean(std::string_view key, Presence presence) {
  const toml::node* found = take(key, presence, "true or false");
  if (found == nullptr) return std::nullopt;
  if (const auto* flag = found->as_boolean()) {
    return Located<bool>{flag->get(), location_of(found->source())};
  }
  report_wrong_type(key, *found, "a boolean", "write true or false, without quotes");
  return std::nullopt;
}

std::optional<Located<std::int64_t>> TableReader::integer(std::string_view key, Presence presence,
                                                          std::int64_t min, std::int64_t max) {
  const std::string range = std::to_string(min) + ".." + std::to_string(max);
  const toml::node* found = take(key, presence, "an integer in " + range);
  if (found == nullptr) return std::nullopt;
  const auto* number = found->as_integer();
  if (number == nullptr) {
    std::string hint = "write an integer in " + range;
    if (found->is_string()) hint += ", without quotes";
    report_wrong_type(key, *found, "an integer", std::move(hint));
    return std::nullopt;
  }
  const std::int64_t value = number->get();
  const Location here = location_of(found->source());
  if (value < min || value > max) {
    diagnostics_->error(rule::kOutOfRange, here,
                        "'" + std::string(key) + "' in " + context_ + " is " +
                            std::to_string(value) + ", out of range",
                        "allowed range is " + range);
    return std::nullopt;
  }
  return Located<std::int64_t>{value, here};
}

std::optional<std::vector<Located<std::string>>> TableReader::strings(std::string_view key,
                                                                      Presence presence,
                                                                      std::size_t max_items) {
  const toml::node* found = take(key, presence, "an array of strings");
  if (found == nullptr) return std::nullopt;
  const auto* array = found->as_array();
  if (array == nullptr) {
    report_wrong_type(key, *found, "an array of strings", "write [\"...\", \"...\"]");
    return std::nullopt;
  }
  if (array->size() > max_items) {
    diagnostics_->error(rule::kTooMany, location_of(found->source()),
                        "'" + std::string(key) + "' in " + context_ + " has " +
                            std::to_string(array->size()) + " entries",
                        "at most " + std::to_string(max_items) + " are allowed");
    return std::nullopt;
  }
  std::vector<Located<std::string>> out;
  bool all_strings = true;
  for (const toml::node& element : *array) {
    if (const auto* text = element.as_string()) {
      out.push_back({text->get(), location_of(element.source())});
    } else {
      report_wrong_type(key, element, "an array of strings", "put each entry in double quotes");
      all_strings = false;
    }
  }
  if (!all_strings) return std::nullopt;
  return out;
}

std::optional<TableReader> TableReader::table(std::string_view key, Presence presence,
                                              std::string context) {
  const toml::node* found = take(key, presence, "a table [" + std::string(key) + "]");
  if (found == nullptr) return std::nullopt;
  if (const auto* sub = found->as_table()) return TableReader(*sub, std::move(context), *diagnostics_);
  report_wrong_type(key, *found, "a table", "write it as a [section] of keys");
  return std::nullopt;
}

std::vector<TableReader> TableReader::tables(std::string_view key, Presence presence,
                                             std::size_t max_items, std::string_view context) {
  std::vector<TableReader> out;
  const toml::node* found = take(key, presence, "one or more [[" + std::string(key) + "]] tables");
  if (found == nullptr) return out;
  const auto* array = found->as_array();
  if (array == nullptr) {
    report_wrong_type(key, *found, "an array of tables",
                      "write each entry under its own [[...]] header (double brackets)");
    return out;
  }
  if (array->size() > max_items) {
    diagnostics_->error(rule::kTooMany, location_of(found->source()),
                        "'" + std::string(key) + "' in " + context_ + " has " +
                            std::to_string(array->size()) + " entries",
                        "at most " + std::to_string(max_items) + " are allowed");
    return out;
  }
  for (const toml::node& element : *array) {
    if (const auto* sub = element.as_table()) {
      out.emplace_back(*sub, std::string(context), *diagnostics_);
    } else {
      report_wrong_type(key, element, "an array of tables",
                        "write each entry under its own [[...]] header (double brackets)");
    }
  }
  return out;
}

void TableReader::finish() {
  std::vector<std::string_view> allowed(known_.begin(), known_.end());
  std::sort(allowed.begin(), allowed.end());
  allowed.erase(std::unique(allowed.begin(), allowed.end()), allowed.end());
  for (const auto& [key, value] : *table_) {
    if (std::binary_search(allowed.begin(), allowed.end(), key.str())) continue;
    std::string hint;
    if (const auto near = closest_match(key.str(), allowed)) {
      hint = "did you mean '" + std::string(*near) + "'?";
    } else {
      hint = "allowed keys here: " + join(allowed);
    }
    Location here = location_of(key.source());
    if (here.line == 0) here = location_of(value.source());
    diagnostics_->error(rule::kUnknownKey, here,
                        "unknown key " + excerpt(key.str()) + " in " + context_, std::move(hint));
  }
}

}  // namespace twofold::policy::detail
