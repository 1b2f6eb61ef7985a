// The `twofold` command-line tool. Command groups register themselves: adding one is one
// #include and one register_*_commands(app) line here (see CMakeLists.txt).
#include <string>

#include <CLI/CLI.hpp>

#include "manager_commands.h"
#include "policy_commands.h"
#include "twofold/audit/cli.h"
#include "run.h"

int main(int argc, char** argv) {
  CLI::App app{"twofold: manage the personal and secure personas of this device", "twofold"};
  app.set_version_flag("--version", std::string("twofold ") + TWOFOLD_VERSION);
  app.require_subcommand(1);
  app.footer(twofold::cli::exit_codes_help());

  twofold::cli::register_policy_commands(app);
  twofold::audit::register_audit_commands(app);
  twofold::cli::register_manager_commands(app);

  return twofold::cli::run(app, argc, argv);
}
