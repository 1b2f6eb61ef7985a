// The input backend's allowlist in forked children: what the backend does after confining
// survives, what it never needs kills.
#include <fcntl.h>
#include <linux/input.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <spdlog/sinks/null_sink.h>

#include "fake_source.h"
#include "kbdfront.h"
#include "twofold/input/confinement.h"
#include "twofold/input/input_backend.h"

namespace twofold::input {
namespace {

template <typename Body>
int run_in_child(Body body) {
    const pid_t pid = fork();
    if (pid == 0) {
        int code = 99;
        try {
            code = body();
        } catch (...) {
        }
        _exit(code);
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0) {
    }
    return status;
}

// The sanitizer runtimes probe memory through a pipe (IsAccessibleMemoryRange: pipe2 + write);
// the board's unsanitized backend never does, so only sanitized test builds allow it.
confine::SyscallAllowlist tested_allowlist() {
    auto list = input_allowlist();
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
    list.allow("pipe2");
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || __has_feature(undefined_behavior_sanitizer)
    list.allow("pipe2");
#endif
#endif
    return list;
}

bool killed_by_sigsys(int status) { return WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS; }
bool exited_ok(int status) { return WIFEXITED(status) && WEXITSTATUS(status) == 0; }

TEST(InputConfinement, EvdevQuerySurvives) {
    const int status = run_in_child([] {
        const int fd = open("/dev/null", O_RDONLY);
        confine::install_seccomp(input_allowlist(), confine::SeccompMode::Kill);
        int version = 0;
        ioctl(fd, EVIOCGVERSION, &version); // ENOTTY on /dev/null, but allowed through
        input_absinfo info{};
        ioctl(fd, EVIOCGABS(ABS_MT_POSITION_X), &info);
        return 0;
    });
    EXPECT_TRUE(exited_ok(status)) << status;
}

TEST(InputConfinement, GrabAfterConfiningKills) {
    const int status = run_in_child([] {
        const int fd = open("/dev/null", O_RDONLY);
        confine::install_seccomp(input_allowlist(), confine::SeccompMode::Kill);
        ioctl(fd, EVIOCGRAB, 1);
        return 0;
    });
    EXPECT_TRUE(killed_by_sigsys(status)) << status;
}

TEST(InputConfinement, TerminalInjectionKills) {
    const int status = run_in_child([] {
        confine::install_seccomp(input_allowlist(), confine::SeccompMode::Kill);
        char c = 'x';
        ioctl(STDIN_FILENO, TIOCSTI, &c);
        return 0;
    });
    EXPECT_TRUE(killed_by_sigsys(status)) << status;
}

TEST(InputConfinement, OpeningAFileKills) {
    const int status = run_in_child([] {
        confine::install_seccomp(input_allowlist(), confine::SeccompMode::Kill);
        (void)open("/dev/null", O_RDONLY);
        return 0;
    });
    EXPECT_TRUE(killed_by_sigsys(status)) << status;
}

// The whole backend keeps routing once confined (on the loopback, whose "hypervisor" lives in
// the same process: everything it allocates is set up before confining).
TEST(InputConfinement, ConfinedBackendStillRoutesKeys) {
    const int status = run_in_child([] {
        loopback::Hypervisor hv;
        xenbus::testing::Toolstack toolstack{hv};
        auto dom0 = hv.platform(xen::kDom0);
        InputBackend backend{*dom0,
                             InputBackendConfig{{{"personal", Trust::Personal}}, GuestResolution{800, 600, 5}, KEY_POWER, 8},
                             std::make_shared<spdlog::logger>("t", std::make_shared<spdlog::sinks::null_sink_mt>())};
        testing::KbdFront guest{hv, toolstack, "personal"};
        testing::FakeDevice keyboard{testing::keyboard()};
        backend.add_source(keyboard.make_source());
        backend.start();
        guest.start();
        auto run_until = [&](const std::function<bool()>& done) {
            for (int i = 0; i < 2000 && !done(); ++i) {
                if (backend.io().stopped()) backend.io().restart();
                backend.io().run_for(std::chrono::milliseconds(2));
            }
            return done();
        };
        if (!run_until([&] { return guest.backend_state() == "4"; })) return 2;
        guest.set_connected();
        backend.apply_focus(focus::Focus{"personal", 1});
        confine::install_seccomp(tested_allowlist(), confine::SeccompMode::Kill);
        keyboard.inject({testing::key(KEY_A, 1), testing::syn()});
        if (!run_until([&] { return guest.unread() == 1; })) return 3;
        return testing::keys_of(guest.take_events()) == std::vector<std::pair<std::uint32_t, bool>>{{KEY_A, true}} ? 0 : 4;
    });
    EXPECT_TRUE(exited_ok(status)) << "status " << status;
}

} // namespace
} // namespace twofold::input
