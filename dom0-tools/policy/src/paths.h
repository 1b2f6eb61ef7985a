#pragma once
// Host paths named by the policy (kernels, disks, keys, logs, evdev nodes).
#include <optional>
#include <string>
#include <string_view>

namespace twofold::policy::detail {

// Why `path` is not acceptable as a policy path, or nullopt if it is: it must be absolute,
// printable, without '..' (a policy should say where things are, not how to climb there)
// and not longer than PATH_MAX.
std::optional<std::string> path_problem(std::string_view path);

// Lexical normal form used to compare paths: "/a//b/./c/" -> "/a/b/c".
std::string normalise_path(std::string_view path);

// True if `path` equals `directory` or lies below it (both normalised).
bool is_within(std::string_view path, std::string_view directory);

}  // namespace twofold::policy::detail
