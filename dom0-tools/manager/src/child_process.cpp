#include "twofold/manager/child_process.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <system_error>
#include <thread>

extern char** environ; // NOLINT: POSIX declares it nowhere else

namespace twofold::manager {
namespace {

// posix_spawn's C structures, released on every path.
class SpawnSetup {
public:
    SpawnSetup() {
        if (const int rc = ::posix_spawn_file_actions_init(&actions_); rc != 0) {
            throw std::system_error(rc, std::generic_category(), "posix_spawn_file_actions_init");
        }
        if (const int rc = ::posix_spawnattr_init(&attr_); rc != 0) {
            ::posix_spawn_file_actions_destroy(&actions_);
            throw std::system_error(rc, std::generic_category(), "posix_spawnattr_init");
        }
        // The manager blocks or handles signals (Asio's signal_set); a backend starts clean.
        sigset_t none;
        sigemptyset(&none);
        sigset_t defaults;
        sigemptyset(&defaults);
        for (const int s : {SIGPIPE, SIGCHLD, SIGTERM, SIGINT, SIGHUP, SIGUSR1, SIGUSR2}) {
            sigaddset(&defaults, s);
        }
        check(::posix_spawnattr_setsigmask(&attr_, &none), "setsigmask");
        check(::posix_spawnattr_setsigdefault(&attr_, &defaults), "setsigdefault");
        check(::posix_spawnattr_setflags(&attr_, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF), "setflags");
        check(::posix_spawn_file_actions_addopen(&actions_, STDIN_FILENO, "/dev/null", O_RDONLY, 0), "addopen");
    }
    ~SpawnSetup() {
        ::posix_spawnattr_destroy(&attr_);
        ::posix_spawn_file_actions_destroy(&actions_);
    }
    SpawnSetup(const SpawnSetup&) = delete;
    SpawnSetup& operator=(const SpawnSetup&) = delete;

    void give(int fd, int as) { check(::posix_spawn_file_actions_adddup2(&actions_, fd, as), "adddup2"); }
    void close(int fd) { check(::posix_spawn_file_actions_addclose(&actions_, fd), "addclose"); }
    // Nothing the manager holds (libvirt, xenstore, audit, control socket) leaks into a
    // backend, whether or not its opener remembered O_CLOEXEC.
    void close_from(int lowest) { check(::posix_spawn_file_actions_addclosefrom_np(&actions_, lowest), "addclosefrom"); }

    pid_t spawn(const std::vector<std::string>& argv) {
        std::vector<char*> args;
        args.reserve(argv.size() + 1);
        for (const auto& a : argv) {
            args.push_back(const_cast<char*>(a.c_str())); // NOLINT: exec's signature, never written
        }
        args.push_back(nullptr);
        pid_t pid = -1;
        if (const int rc = ::posix_spawn(&pid, args[0], &actions_, &attr_, args.data(), environ); rc != 0) {
            throw std::system_error(rc, std::generic_category(), "cannot start " + argv.front());
        }
        return pid;
    }

private:
    static void check(int rc, const char* what) {
        if (rc != 0) {
            throw std::system_error(rc, std::generic_category(), std::string("posix_spawn ") + what);
        }
    }
    posix_spawn_file_actions_t actions_{};
    posix_spawnattr_t attr_{};
};

} // namespace

namespace {

struct Pair {
    xen::UniqueFd ours;
    xen::UniqueFd theirs;
};

// A SOCK_STREAM socketpair; the child's end is moved above every fd number it is given on,
// so that no dup2 below overwrites it (dup2(3, 3) would also keep close-on-exec set).
Pair socket_pair(int lowest_free) {
    int fds[2] = {-1, -1};
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) {
        throw std::system_error(errno, std::generic_category(), "socketpair");
    }
    Pair pair{xen::UniqueFd(fds[0]), xen::UniqueFd(fds[1])};
    if (pair.theirs.get() < lowest_free) {
        pair.theirs = xen::UniqueFd(::fcntl(pair.theirs.get(), F_DUPFD_CLOEXEC, lowest_free));
        if (!pair.theirs.valid()) {
            throw std::system_error(errno, std::generic_category(), "fcntl(F_DUPFD_CLOEXEC)");
        }
    }
    return pair;
}

// A close-on-exec copy of `fd` numbered at least `lowest_free`.
xen::UniqueFd copy_above(int fd, int lowest_free) {
    xen::UniqueFd copy(::fcntl(fd, F_DUPFD_CLOEXEC, lowest_free));
    if (!copy.valid()) {
        throw std::system_error(errno, std::generic_category(), "fcntl(F_DUPFD_CLOEXEC)");
    }
    return copy;
}

} // namespace

SpawnedBackend spawn_with_focus_link(const std::vector<std::string>& argv, bool xenstore_link, std::span<const ExtraFd> extra) {
    if (argv.empty() || argv.front().empty() || argv.front()[0] != '/') {
        throw std::system_error(EINVAL, std::generic_category(), "backend command must start with an absolute path");
    }
    int first_free = kFirstExtraFd;
    for (std::size_t i = 0; i < extra.size(); ++i) {
        const bool repeated = std::any_of(extra.begin(), extra.begin() + static_cast<std::ptrdiff_t>(i),
                                          [&](const ExtraFd& e) { return e.as == extra[i].as; });
        if (extra[i].fd < 0 || extra[i].as < kFirstExtraFd || repeated) {
            throw std::system_error(EINVAL, std::generic_category(), "extra fds must be distinct numbers from 5");
        }
        first_free = std::max(first_free, extra[i].as + 1);
    }
    Pair focus = socket_pair(first_free);
    Pair xenstore;
    if (xenstore_link) xenstore = socket_pair(first_free);
    // The dup2s run in order in the child: every source sits above every target, so none is
    // overwritten before its turn, whatever numbers the manager's own copies have.
    std::vector<xen::UniqueFd> sources;
    sources.reserve(extra.size());
    for (const auto& e : extra) sources.push_back(copy_above(e.fd, first_free));
    SpawnSetup setup;
    setup.give(focus.theirs.get(), kFocusFd); // dup2 clears close-on-exec on the copy only
    if (xenstore_link) {
        setup.give(xenstore.theirs.get(), kXenStoreFd);
    } else if (!extra.empty()) {
        setup.close(kXenStoreFd); // below closefrom's range: whatever the manager has there
    }
    for (std::size_t i = 0; i < extra.size(); ++i) setup.give(sources[i].get(), extra[i].as);
    for (int fd = kFirstExtraFd; fd < first_free; ++fd) {
        if (std::none_of(extra.begin(), extra.end(), [fd](const ExtraFd& e) { return e.as == fd; })) setup.close(fd);
    }
    setup.close_from(extra.empty() ? (xenstore_link ? kXenStoreFd + 1 : kFocusFd + 1) : first_free);
    const pid_t pid = setup.spawn(argv);
    return SpawnedBackend{pid, std::move(focus.ours), std::move(xenstore.ours)};
}

int run_and_wait(const std::vector<std::string>& argv, int timeout_ms) {
    pid_t pid = -1;
    try {
        SpawnSetup setup;
        setup.close_from(STDERR_FILENO + 1);
        pid = setup.spawn(argv);
    } catch (const std::system_error&) {
        return -1;
    }
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    int status = 0;
    for (;;) {
        const pid_t done = ::waitpid(pid, &status, WNOHANG);
        if (done == pid) {
            return status;
        }
        if (done < 0 || std::chrono::steady_clock::now() >= deadline) {
            ::kill(pid, SIGKILL);
            ::waitpid(pid, &status, 0);
            return -1;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
}

} // namespace twofold::manager
