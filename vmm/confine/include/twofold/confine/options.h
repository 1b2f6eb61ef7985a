// The three confinement flags every backend's main shares (--user, --no-confine, --seccomp),
// so that each main is: declare Options, add_options(app, ...), apply(...) once devices are open.
#pragma once

#include <string>

#include <CLI/CLI.hpp>

#include "twofold/confine/confine.h"

namespace twofold::confine {

struct Options {
    std::string user;              // default "twofold-<backend>"
    bool no_confine = false;       // host tests and developer runs only
    SeccompMode mode = SeccompMode::Kill;
};

// Options whose user defaults to `default_user`.
Options default_options(std::string default_user);

void add_options(CLI::App& app, Options& options);

struct ApplyReport {
    bool confined = false;
    SeccompReport seccomp;
};

// drop_privileges(options.user) then install_seccomp(allowlist, options.mode), or nothing
// with --no-confine. Throws ConfineError.
ApplyReport apply(const Options& options, const SyscallAllowlist& allowlist);

} // namespace twofold::confine
