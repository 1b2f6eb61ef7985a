#pragma once
#include <CLI/CLI.hpp>

namespace twofold::cli {

// `twofold policy check FILE [--json]` and `twofold policy rules [--json]`.
void register_policy_commands(CLI::App& app);

}  // namespace twofold::cli
