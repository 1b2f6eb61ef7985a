#pragma once
// "did you mean ...?" for misspelt keys and values.
#include <optional>
#include <span>
#include <string_view>

namespace twofold::policy::detail {

// Case-insensitive edit distance (insert, delete, substitute, swap adjacent).
std::size_t edit_distance(std::string_view a, std::string_view b);

// The candidate closest to `word`, if it is close enough to be a plausible typo.
std::optional<std::string_view> closest_match(std::string_view word,
                                              std::span<const std::string_view> candidates);

}  // namespace twofold::policy::detail
