#include "twofold/confine/options.h"

#include <ctime>

namespace twofold::confine {

Options default_options(std::string default_user) {
    Options options;
    options.user = std::move(default_user);
    return options;
}

void add_options(CLI::App& app, Options& options) {
    app.add_option("--user", options.user, "drop to this user once devices are open")->capture_default_str();
    app.add_flag("--no-confine", options.no_confine, "run unconfined (host tests, debugging)");
    app.add_option_function<std::string>(
           "--seccomp",
           [&options](const std::string& text) {
               const auto mode = parse_seccomp_mode(text);
               if (!mode) throw CLI::ValidationError("--seccomp", "expected kill or log");
               options.mode = *mode;
           },
           "seccomp default action: kill (production) or log (debugging)")
        ->default_str("kill");
}

ApplyReport apply(const Options& options, const SyscallAllowlist& allowlist) {
    ApplyReport report;
    if (options.no_confine) return report;
    // What libc reads lazily is read now, before the filter forbids opening files: the time
    // zone, which the first log timestamp (localtime_r) would otherwise load with openat and
    // be killed for (the modem backend, which logs nothing before it is confined, was).
    tzset();
    drop_privileges(options.user);
    report.seccomp = install_seccomp(allowlist, options.mode);
    report.confined = true;
    return report;
}

} // namespace twofold::confine
