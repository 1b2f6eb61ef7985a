#pragma once
// Reads a policy file strictly: every unknown key, wrong type, missing field and
// out-of-range value is a finding, and all of them are reported, not just the first.
#include <filesystem>
#include <optional>
#include <string_view>
#include <vector>

#include "twofold/policy/finding.h"
#include "twofold/policy/policy.h"

namespace twofold::policy {

enum class LoadStatus {
  loaded,      // the document parsed; `policy` is set (findings may still hold errors)
  unreadable,  // the file could not be read or is too large: nothing was parsed
  syntax_error,  // not TOML: one toml.syntax finding with the parser's position
};

struct LoadResult {
  LoadStatus status = LoadStatus::unreadable;
  // Best effort when the document parsed: fields that failed validation keep their
  // defaults. Act on it only if `findings` holds no error.
  std::optional<Policy> policy;
  std::vector<Finding> findings;
};

// `source_name` is the file name printed in findings.
LoadResult load_policy(std::string_view text, std::string_view source_name);
LoadResult load_policy_file(const std::filesystem::path& file);

}  // namespace twofold::policy
