#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "child.h"
#include "twofold/confine/confine.h"

namespace twofold::confine {
namespace {

using testing::exited_with;
using testing::killed_by;
using testing::run_in_child;

int open_inet_socket() { return static_cast<int>(syscall(SYS_socket, AF_INET, SOCK_STREAM, 0)); }

TEST(Seccomp, SyscallOutsideBaseAllowlistKillsWithSigsys) {
    const int status = run_in_child([] {
        install_seccomp(base_allowlist(), SeccompMode::Kill);
        open_inet_socket();
        return 0;
    });
    EXPECT_TRUE(killed_by(status, SIGSYS)) << "status " << status;
}

TEST(Seccomp, PtraceOutsideBaseAllowlistKillsWithSigsys) {
    const int status = run_in_child([] {
        install_seccomp(base_allowlist(), SeccompMode::Kill);
        syscall(SYS_ptrace, PTRACE_TRACEME, 0, 0, 0);
        return 0;
    });
    EXPECT_TRUE(killed_by(status, SIGSYS)) << "status " << status;
}

TEST(Seccomp, AllowedSyscallSurvives) {
    const int status = run_in_child([] {
        install_seccomp(base_allowlist().allow("socket"), SeccompMode::Kill);
        return open_inet_socket() >= 0 ? 0 : 1;
    });
    EXPECT_TRUE(exited_with(status, 0)) << "status " << status;
}

TEST(Seccomp, LogModeLetsDisallowedSyscallThrough) {
    const int status = run_in_child([] {
        install_seccomp(base_allowlist(), SeccompMode::Log);
        return open_inet_socket() >= 0 ? 0 : 1;
    });
    EXPECT_TRUE(exited_with(status, 0)) << "status " << status;
}

TEST(Seccomp, OpenatIsNotInBaseAllowlist) {
    const int status = run_in_child([] {
        install_seccomp(base_allowlist(), SeccompMode::Kill);
        syscall(SYS_openat, AT_FDCWD, "/dev/null", 0);
        return 0;
    });
    EXPECT_TRUE(killed_by(status, SIGSYS)) << "status " << status;
}

TEST(Seccomp, IoctlWithListedRequestSurvives) {
    const int status = run_in_child([] {
        install_seccomp(base_allowlist().allow_ioctls({FIONREAD}), SeccompMode::Kill);
        int pending = 0;
        ioctl(STDIN_FILENO, FIONREAD, &pending);
        return 0;
    });
    EXPECT_TRUE(exited_with(status, 0)) << "status " << status;
}

TEST(Seccomp, IoctlWithUnlistedRequestKills) {
    const int status = run_in_child([] {
        install_seccomp(base_allowlist().allow_ioctls({FIONREAD}), SeccompMode::Kill);
        int on = 1;
        ioctl(STDIN_FILENO, FIONBIO, &on);
        return 0;
    });
    EXPECT_TRUE(killed_by(status, SIGSYS)) << "status " << status;
}

TEST(Seccomp, TgkillOnAnotherProcessKills) {
    const pid_t parent = getpid();
    const int status = run_in_child([parent] {
        install_seccomp(base_allowlist(), SeccompMode::Kill);
        // base_allowlist() was built in this child, so its tgkill rule names the child only.
        syscall(SYS_tgkill, parent, parent, 0);
        return 0;
    });
    EXPECT_TRUE(killed_by(status, SIGSYS)) << "status " << status;
}

TEST(Seccomp, NamesMissingOnThisArchitectureAreSkippedNotFatal) {
    const int status = run_in_child([] {
        // open and epoll_wait exist on x86_64 only; rseq-era names exist on both.
        const auto report = install_seccomp(base_allowlist().allow("open").allow("epoll_wait"), SeccompMode::Kill);
        return report.installed > 0 ? 0 : 1;
    });
    EXPECT_TRUE(exited_with(status, 0)) << "status " << status;
}

TEST(Seccomp, UnknownSyscallNameIsAnErrorBeforeLoading) {
    try {
        install_seccomp(SyscallAllowlist("typo").allow("not_a_syscall"), SeccompMode::Kill);
        FAIL() << "expected ConfineError";
    } catch (const ConfineError& error) {
        EXPECT_EQ(error.code().value(), EINVAL);
        EXPECT_EQ(error.subject(), "not_a_syscall");
    }
}

TEST(Seccomp, FilterAppliesToThreadsStartedBeforeInstall) {
    const int status = run_in_child([] {
        // A thread that waits, then makes a forbidden syscall after the main thread confines.
        int ready[2];
        if (pipe(ready) != 0) return 2;
        pthread_t thread{};
        auto body = [](void* fd) -> void* {
            char byte = 0;
            if (read(*static_cast<int*>(fd), &byte, 1) == 1) open_inet_socket();
            _exit(0);
        };
        if (pthread_create(&thread, nullptr, body, &ready[0]) != 0) return 3;
        install_seccomp(base_allowlist(), SeccompMode::Kill);
        const char go = 1;
        if (write(ready[1], &go, 1) != 1) return 4;
        pthread_join(thread, nullptr);
        return 5;
    });
    EXPECT_TRUE(killed_by(status, SIGSYS)) << "status " << status;
}

} // namespace
} // namespace twofold::confine

namespace twofold::confine {
namespace {

using testing::exited_with;
using testing::killed_by;
using testing::run_in_child;

TEST(SeccompIoctlFamily, RequestInTheFamilySurvives) {
    const int status = run_in_child([] {
        install_seccomp(base_allowlist().allow_ioctl_family(0xff00, 0x5400), SeccompMode::Kill); // 'T' requests
        int pending = 0;
        ioctl(STDIN_FILENO, FIONREAD, &pending);
        return 0;
    });
    EXPECT_TRUE(exited_with(status, 0)) << "status " << status;
}

TEST(SeccompIoctlFamily, RequestOutsideTheFamilyKills) {
    const int status = run_in_child([] {
        install_seccomp(base_allowlist().allow_ioctl_family(0xff00, 0x5400), SeccompMode::Kill);
        int version = 0;
        ioctl(STDIN_FILENO, _IOR('E', 0x01, int), &version); // EVIOCGVERSION: type 'E'
        return 0;
    });
    EXPECT_TRUE(killed_by(status, SIGSYS)) << "status " << status;
}

} // namespace
} // namespace twofold::confine

// No executable memory after start (issue 14): a confined process may map and re-protect
// memory, but never with PROT_EXEC. Each refusal is checked in a child that is otherwise
// allowed everything it does, with the non-executable call as the positive control.
namespace twofold::confine {
namespace {

using testing::exited_with;
using testing::killed_by;
using testing::run_in_child;

constexpr std::size_t kPage = 4096;

void* anonymous_map(int prot) {
    // The raw syscall: what a compromised backend would issue, not a libc wrapper's choice.
    return reinterpret_cast<void*>(
        syscall(SYS_mmap, nullptr, kPage, prot, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
}

TEST(SeccompNoExec, ReadWriteMmapSurvives) {
    const int status = run_in_child([] {
        install_seccomp(base_allowlist(), SeccompMode::Kill);
        void* page = anonymous_map(PROT_READ | PROT_WRITE);
        if (page == MAP_FAILED) return 1;
        static_cast<volatile char*>(page)[0] = 1;
        return syscall(SYS_mprotect, page, kPage, PROT_READ) == 0 ? 0 : 2;
    });
    EXPECT_TRUE(exited_with(status, 0)) << "status " << status;
}

TEST(SeccompNoExec, ExecutableMmapKillsWithSigsys) {
    const int status = run_in_child([] {
        install_seccomp(base_allowlist(), SeccompMode::Kill);
        anonymous_map(PROT_READ | PROT_EXEC);
        return 0; // reached only if the kernel let the mapping through
    });
    EXPECT_TRUE(killed_by(status, SIGSYS)) << "status " << status;
}

TEST(SeccompNoExec, WritableExecutableMmapKillsWithSigsys) {
    const int status = run_in_child([] {
        install_seccomp(base_allowlist(), SeccompMode::Kill);
        anonymous_map(PROT_READ | PROT_WRITE | PROT_EXEC);
        return 0;
    });
    EXPECT_TRUE(killed_by(status, SIGSYS)) << "status " << status;
}

TEST(SeccompNoExec, MprotectToExecutableKillsWithSigsys) {
    const int status = run_in_child([] {
        void* page = anonymous_map(PROT_READ | PROT_WRITE); // mapped before confinement
        if (page == MAP_FAILED) return 1;
        install_seccomp(base_allowlist(), SeccompMode::Kill);
        syscall(SYS_mprotect, page, kPage, PROT_READ | PROT_EXEC);
        return 0;
    });
    EXPECT_TRUE(killed_by(status, SIGSYS)) << "status " << status;
}

TEST(SeccompNoExec, PkeyMprotectIsNotAllowed) {
    const int status = run_in_child([] {
        void* page = anonymous_map(PROT_READ | PROT_WRITE);
        if (page == MAP_FAILED) return 1;
        install_seccomp(base_allowlist(), SeccompMode::Kill);
        syscall(SYS_pkey_mprotect, page, kPage, PROT_READ | PROT_EXEC, -1);
        return 0;
    });
    EXPECT_TRUE(killed_by(status, SIGSYS)) << "status " << status;
}

TEST(SeccompNoExec, BackendThatAllowsMmapAgainStillCannotMapExecutable) {
    // merge() of a backend's list keeps the narrowed rule: the base rule is not widened by a
    // backend list that only adds ioctls.
    const int status = run_in_child([] {
        install_seccomp(base_allowlist().merge(SyscallAllowlist("backend").allow_ioctls({FIONREAD})),
                        SeccompMode::Kill);
        anonymous_map(PROT_EXEC);
        return 0;
    });
    EXPECT_TRUE(killed_by(status, SIGSYS)) << "status " << status;
}

} // namespace
} // namespace twofold::confine
