#pragma once
// Shared by the policy tests: reading test files and picking findings apart.
#include <fstream>
#include <iterator>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "twofold/policy/finding.h"

namespace twofold::policy::test {

inline std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

inline std::string minimal_policy() {
  return read_text(std::string(TWOFOLD_POLICY_TEST_DIR) + "/good/minimal.toml");
}

inline std::set<std::string> rules_of(const std::vector<Finding>& findings) {
  std::set<std::string> rules;
  for (const auto& finding : findings) rules.insert(finding.rule);
  return rules;
}

inline const Finding* find_rule_in(const std::vector<Finding>& findings, const std::string& id) {
  for (const auto& finding : findings) {
    if (finding.rule == id) return &finding;
  }
  return nullptr;
}

// Replaces the one occurrence of `from` in `text`; a test that edits nothing must not pass.
inline std::string replace_once(std::string text, const std::string& from, const std::string& to) {
  const auto at = text.find(from);
  if (at == std::string::npos || text.find(from, at + 1) != std::string::npos) {
    throw std::runtime_error("test edit not unique: " + from);
  }
  return text.replace(at, from.size(), to);
}

}  // namespace twofold::policy::test
