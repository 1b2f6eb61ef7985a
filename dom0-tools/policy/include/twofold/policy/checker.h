#pragma once
// The security and consistency rules that span more than one field (rules.h lists them).
#include <filesystem>
#include <vector>

#include "twofold/policy/finding.h"
#include "twofold/policy/loader.h"
#include "twofold/policy/policy.h"

namespace twofold::policy {

struct CheckOptions {
  // Besides comparing disk paths lexically (after normalisation), ask the file system
  // whether two existing paths are the same file (symlinks, hard links, bind mounts).
  // Off for fuzzing and for checking a policy on a machine other than the board.
  bool resolve_paths = true;
};

std::vector<Finding> check_policy(const Policy& policy, const CheckOptions& options = {});

// Loads and, if the document parsed, checks: every finding of both, sorted by position.
LoadResult load_and_check_policy_file(const std::filesystem::path& file,
                                      const CheckOptions& options = {});
LoadResult load_and_check_policy(std::string_view text, std::string_view source_name,
                                 const CheckOptions& options = {});

}  // namespace twofold::policy
