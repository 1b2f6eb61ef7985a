#pragma once
#include <CLI/CLI.hpp>

namespace twofold::cli {

// `twofold status`, `twofold switch [PERSONA]`, `twofold start|stop|restart PERSONA`,
// `twofold shutdown`: requests
// to twofold-manager over its control socket.
void register_manager_commands(CLI::App& app);

}  // namespace twofold::cli
