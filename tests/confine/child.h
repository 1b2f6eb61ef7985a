// Runs a body in a forked child and returns its wait status, so that confinement (which cannot
// be undone) never touches the test runner.
#pragma once

#include <sys/wait.h>
#include <unistd.h>

#include <exception>

namespace twofold::confine::testing {

inline constexpr int kChildThrew = 99;

template <typename Body>
int run_in_child(Body body) {
    const pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        int code = kChildThrew;
        try {
            code = body();
        } catch (const std::exception&) {
        }
        _exit(code);
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0) {
    }
    return status;
}

inline bool killed_by(int status, int signal) { return WIFSIGNALED(status) && WTERMSIG(status) == signal; }
inline bool exited_with(int status, int code) { return WIFEXITED(status) && WEXITSTATUS(status) == code; }

} // namespace twofold::confine::testing
