#pragma once
// xenstored's path rules (xs_wire.h, xenstored_core.c is_valid_nodename).
#include <string>
#include <string_view>
#include <vector>

namespace twofold::loopback::detail {

// XENSTORE_ABS_PATH_MAX and XENSTORE_PAYLOAD_MAX from xs_wire.h.
inline constexpr std::size_t kMaxPathLength = 3072;
inline constexpr std::size_t kMaxPayload = 4096;

// Absolute, no trailing '/', no "//", only [A-Za-z0-9-/_@], at most kMaxPathLength.
// Throws XenError(EINVAL, operation) otherwise.
void validate_path(std::string_view path, const char* operation);
// A watch may also name a special node ("@releaseDomain", "@introduceDomain").
void validate_watch_path(std::string_view path, const char* operation);
[[nodiscard]] bool is_special_path(std::string_view path) noexcept;
// True when path is watched or lies below it ("/a/b" is below "/a", "/ab" is not).
[[nodiscard]] bool is_at_or_below(std::string_view path, std::string_view watched) noexcept;
// "/a/b" -> {"a", "b"}; "/" -> {}.
[[nodiscard]] std::vector<std::string> split_path(std::string_view path);

} // namespace twofold::loopback::detail
