#include "run.h"

#include <exception>
#include <iostream>

namespace twofold::cli {

std::string exit_codes_help() {
  return "Exit codes:\n"
         "  0  success; for checks: no errors (warnings allowed)\n"
         "  1  the command found errors (e.g. a policy with error findings)\n"
         "  2  usage error, or an input file that cannot be read\n"
         "  3  internal failure\n";
}

void exit_with(int code) {
  // CLI11 treats RuntimeError as "stop, print nothing, exit with this code".
  throw CLI::RuntimeError(code);
}

int run(CLI::App& app, int argc, char** argv) {
  try {
    app.parse(argc, argv);
    return kExitOk;
  } catch (const CLI::RuntimeError& e) {
    return e.get_exit_code();
  } catch (const CLI::ParseError& e) {
    // --help and --version arrive here too, with exit code 0.
    const int code = app.exit(e);
    return code == 0 ? kExitOk : kExitUsage;
  } catch (const std::exception& e) {
    std::cerr << "twofold: internal error: " << e.what() << '\n';
    return kExitInternal;
  }
}

}  // namespace twofold::cli
