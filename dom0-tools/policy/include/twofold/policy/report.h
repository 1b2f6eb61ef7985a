#pragma once
// The two printed forms of findings: one line per finding for people and editors
// ("FILE:LINE:COL: error[rule]: message (hint: ...)"), and JSON for tools.
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "twofold/policy/finding.h"

namespace twofold::policy {

std::string format_human(const Finding& finding);
nlohmann::json to_json(const Finding& finding);
nlohmann::json to_json(const std::vector<Finding>& findings);

}  // namespace twofold::policy
