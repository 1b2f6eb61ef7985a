#pragma once
// What every command group shares: the exit codes, and running the app so that they hold.
#include <string>

#include <CLI/CLI.hpp>

namespace twofold::cli {

// Documented in `twofold --help` and docs/policy.md; scripts rely on them.
inline constexpr int kExitOk = 0;        // done; for checks: no errors (warnings allowed)
inline constexpr int kExitFindings = 1;  // the command ran and found errors (or failed its job)
inline constexpr int kExitUsage = 2;     // bad command line, or an input that cannot be read
inline constexpr int kExitInternal = 3;  // an unexpected failure inside twofold

std::string exit_codes_help();

// A command callback ends with a non-zero status by throwing this; run() returns `code`.
[[noreturn]] void exit_with(int code);

// Parses and runs the selected command; returns the process exit code.
int run(CLI::App& app, int argc, char** argv);

}  // namespace twofold::cli
