#pragma once
// Key names as in linux/input-event-codes.h, resolved with libevdev's own tables.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace twofold::policy::detail {

std::optional<std::uint16_t> key_code_from_name(std::string_view name);
// The canonical name of an EV_KEY code, or empty if libevdev knows none.
std::string key_name(std::uint16_t code);
// The known key name closest to a misspelt one (e.g. "KEY_POWR" -> "KEY_POWER").
std::optional<std::string> closest_key_name(std::string_view name);

}  // namespace twofold::policy::detail
