#include "twofold/policy/report.h"

#include <nlohmann/json.hpp>

namespace twofold::policy {

std::string format_human(const Finding& finding) {
  std::string out = finding.file;
  if (finding.where.line != 0) {
    out += ':' + std::to_string(finding.where.line) + ':' + std::to_string(finding.where.column);
  }
  out += ": ";
  out += to_string(finding.severity);
  out += '[' + finding.rule + "]: " + finding.message;
  if (!finding.hint.empty()) out += " (hint: " + finding.hint + ')';
  return out;
}

nlohmann::json to_json(const Finding& finding) {
  return nlohmann::json{
      {"severity", to_string(finding.severity)},
      {"file", finding.file},
      {"line", finding.where.line},
      {"column", finding.where.column},
      {"rule", finding.rule},
      {"message", finding.message},
      {"hint", finding.hint},
  };
}

nlohmann::json to_json(const std::vector<Finding>& findings) {
  nlohmann::json out = nlohmann::json::array();
  for (const Finding& finding : findings) out.push_back(to_json(finding));
  return out;
}

}  // namespace twofold::policy
