#pragma once
// Collects the findings for one source file, so that reporting never stops at the first.
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "twofold/policy/finding.h"

namespace twofold::policy::detail {

class Diagnostics {
 public:
  explicit Diagnostics(std::string file) : file_(std::move(file)) {}

  void error(std::string_view rule, Location where, std::string message, std::string hint = {}) {
    add(Severity::error, rule, where, std::move(message), std::move(hint));
  }
  void warning(std::string_view rule, Location where, std::string message, std::string hint = {}) {
    add(Severity::warning, rule, where, std::move(message), std::move(hint));
  }

  const std::string& file() const noexcept { return file_; }
  std::vector<Finding> take() && { return std::move(findings_); }
  const std::vector<Finding>& findings() const noexcept { return findings_; }

 private:
  void add(Severity severity, std::string_view rule, Location where, std::string message,
           std::string hint) {
    findings_.push_back(Finding{severity, file_, where, std::string(rule), std::move(message),
                                std::move(hint)});
  }

  std::string file_;
  std::vector<Finding> findings_;
};

}  // namespace twofold::policy::detail
