#pragma once
// The `twofold audit` command group: verify, show, keygen.
// Exit codes (verify): 0 intact, 1 tampered (first bad record named), 2 usage or I/O error.

#include <iosfwd>

namespace CLI {
class App;
}

namespace twofold::audit {

// Adds the `audit` subcommand (with verify/show/keygen) to `app`. Each subcommand's
// callback throws CLI::RuntimeError(code) for a non-zero exit, so the CLI's main maps it
// through app.exit() like any other CLI11 error.
void register_audit_commands(CLI::App& app);
// Same, printing to the given streams (tests capture them; both must outlive `app`).
void register_audit_commands(CLI::App& app, std::ostream& out, std::ostream& err);

}  // namespace twofold::audit
