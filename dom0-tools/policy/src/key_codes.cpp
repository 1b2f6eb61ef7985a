#include "key_codes.h"

#include <libevdev/libevdev.h>
#include <linux/input.h>

#include <cctype>
#include <vector>

#include "near_miss.h"
#include "twofold/policy/limits.h"

namespace twofold::policy::detail {

std::optional<std::uint16_t> key_code_from_name(std::string_view name) {
  // libevdev wants a C string; also accept KEY_/BTN_ names only, never other event types.
  if (!(name.starts_with("KEY_") || name.starts_with("BTN_"))) return std::nullopt;
  const std::string owned(name);
  const int code = libevdev_event_code_from_name(EV_KEY, owned.c_str());
  if (code < limits::kMinKeyCode || code > limits::kMaxKeyCode) return std::nullopt;
  return static_cast<std::uint16_t>(code);
}

std::string key_name(std::uint16_t code) {
  const char* name = libevdev_event_code_get_name(EV_KEY, code);
  return name == nullptr ? std::string() : std::string(name);
}

std::optional<std::string> closest_key_name(std::string_view name) {
  std::string upper(name);
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (!upper.starts_with("KEY_") && !upper.starts_with("BTN_")) upper.insert(0, "KEY_");
  if (key_code_from_name(upper)) return upper;
  std::vector<std::string> names;
  for (std::int64_t code = limits::kMinKeyCode; code <= limits::kMaxKeyCode; ++code) {
    std::string known = key_name(static_cast<std::uint16_t>(code));
    if (!known.empty()) names.push_back(std::move(known));
  }
  std::vector<std::string_view> views(names.begin(), names.end());
  if (const auto near = closest_match(upper, views)) return std::string(*near);
  return std::nullopt;
}

}  // namespace twofold::policy::detail
