#pragma once
// What the loader and the checker report: one problem, where it is, which rule, how to fix it.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace twofold::policy {

enum class Severity { error, warning };

std::string_view to_string(Severity severity) noexcept;

// 1-based, as editors count; {0, 0} means "the whole file" (e.g. it could not be read).
struct Location {
  std::uint32_t line = 0;
  std::uint32_t column = 0;
  friend bool operator==(const Location&, const Location&) = default;
};

struct Finding {
  Severity severity = Severity::error;
  std::string file;
  Location where;
  std::string rule;  // stable id, e.g. "secure.no-camera"; documented in docs/policy.md
  std::string message;
  std::string hint;  // how to fix it; may be empty
};

bool has_errors(const std::vector<Finding>& findings) noexcept;

// Orders by position so that a reader walks the file once, top to bottom.
void sort_by_position(std::vector<Finding>& findings);

}  // namespace twofold::policy
