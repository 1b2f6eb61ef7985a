#include "paths.h"

#include <filesystem>

#include "twofold/policy/limits.h"

namespace twofold::policy::detail {

std::optional<std::string> path_problem(std::string_view path) {
  if (path.empty()) return "the path is empty";
  if (path.size() > limits::kMaxPathLength) return "the path is longer than PATH_MAX";
  if (path.front() != '/') return "the path is not absolute";
  for (const char c : path) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte == 0x7f) return "the path contains a control character";
  }
  for (const auto& part : std::filesystem::path(path)) {
    if (part == "..") return "the path contains a '..' component";
  }
  return std::nullopt;
}

std::string normalise_path(std::string_view path) {
  std::string out = std::filesystem::path(path).lexically_normal().string();
  while (out.size() > 1 && out.back() == '/') out.pop_back();
  return out;
}

bool is_within(std::string_view path, std::string_view directory) {
  const std::string p = normalise_path(path);
  const std::string d = normalise_path(directory);
  if (p == d) return true;
  if (d == "/") return true;
  return p.size() > d.size() && p.compare(0, d.size(), d) == 0 && p[d.size()] == '/';
}

}  // namespace twofold::policy::detail
