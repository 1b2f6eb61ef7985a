#include "policy_commands.h"

#include <iostream>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "run.h"
#include "twofold/policy/checker.h"
#include "twofold/policy/report.h"
#include "twofold/policy/rules.h"

namespace twofold::cli {
namespace {

namespace tp = twofold::policy;

struct CheckArgs {
  std::string file;
  bool json = false;
  bool no_resolve = false;
};

std::string plural(std::size_t count, const char* word) {
  return std::to_string(count) + ' ' + word + (count == 1 ? "" : "s");
}

void check(const CheckArgs& args) {
  tp::CheckOptions options;
  options.resolve_paths = !args.no_resolve;
  const tp::LoadResult result = tp::load_and_check_policy_file(args.file, options);

  if (args.json) {
    // replace: a file name given on the command line need not be valid UTF-8.
    std::cout << tp::to_json(result.findings)
                     .dump(2, ' ', false, nlohmann::json::error_handler_t::replace)
              << '\n';
  } else {
    std::size_t errors = 0;
    for (const tp::Finding& finding : result.findings) {
      std::cout << tp::format_human(finding) << '\n';
      if (finding.severity == tp::Severity::error) ++errors;
    }
    std::cout << args.file << ": " << plural(errors, "error") << ", "
              << plural(result.findings.size() - errors, "warning") << '\n';
  }
  if (result.status == tp::LoadStatus::unreadable) exit_with(kExitUsage);
  if (tp::has_errors(result.findings)) exit_with(kExitFindings);
}

void list_rules(bool json) {
  if (json) {
    nlohmann::json out = nlohmann::json::array();
    for (const tp::RuleInfo& info : tp::all_rules()) {
      out.push_back({{"rule", info.id},
                     {"severity", tp::to_string(info.severity)},
                     {"summary", info.summary}});
    }
    std::cout << out.dump(2) << '\n';
    return;
  }
  for (const tp::RuleInfo& info : tp::all_rules()) {
    std::cout << info.id << "  " << tp::to_string(info.severity) << "  " << info.summary << '\n';
  }
}

}  // namespace

void register_policy_commands(CLI::App& app) {
  CLI::App* policy = app.add_subcommand("policy", "Check persona policy files");
  policy->require_subcommand(1);

  // The options live as long as the callback that reads them, i.e. as long as the app.
  auto args = std::make_shared<CheckArgs>();
  CLI::App* check_cmd = policy->add_subcommand(
      "check", "Report every error and warning in a policy file (see docs/policy.md)");
  check_cmd->add_option("FILE", args->file, "policy file, e.g. /etc/twofold/personas.toml")
      ->required();
  check_cmd->add_flag("--json", args->json, "print the findings as a JSON array");
  check_cmd->add_flag("--no-resolve-paths", args->no_resolve,
                      "compare disk paths lexically only, without asking the file system "
                      "(for checking on a machine other than the device)");
  check_cmd->footer(
      "Prints FILE:LINE:COL: error[rule]: message (hint: ...) per finding.\n"
      "Exit 0: no errors (warnings allowed); 1: errors; 2: usage error or unreadable file.");
  check_cmd->callback([args] { check(*args); });

  auto rules_json = std::make_shared<bool>(false);
  CLI::App* rules_cmd =
      policy->add_subcommand("rules", "List every rule id the checker can report");
  rules_cmd->add_flag("--json", *rules_json, "print the rules as a JSON array");
  rules_cmd->callback([rules_json] { list_rules(*rules_json); });
}

}  // namespace twofold::cli
