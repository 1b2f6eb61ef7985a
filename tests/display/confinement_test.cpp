// The display backend confined as in production (own user, seccomp kill-process with the
// display allowlist) still does its job: a focus order is presented and acked. Each case runs in
// a forked child, since confinement cannot be undone. The child's guests connect before
// confinement (on the board they are other domains; here the loopback runs in-process).
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>
#include <xf86drm.h>

#include <csignal>
#include <exception>

#include <gtest/gtest.h>
#include <spdlog/sinks/null_sink.h>

#include "fbfront.h"
#include "focus_peer.h"
#include "twofold/confine/confine.h"
#include "twofold/display/confinement.h"
#include "twofold/display/display_backend.h"

namespace twofold::display {
namespace {

using testing::FbFront;
using testing::FbMode;
using testing::FocusPeer;
using testing::SocketPair;

constexpr std::uint32_t kW = 160;
constexpr std::uint32_t kH = 120;
constexpr std::uint32_t kStrip = 24;
constexpr FbMode kMode{kW, kH - kStrip, kW * 4, kW * 4 * (kH - kStrip)};
constexpr int kChildThrew = 99;

template <typename Body>
int run_in_child(Body body) {
    const pid_t pid = ::fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        int code = kChildThrew;
        try {
            code = body();
        } catch (const std::exception&) {
        }
        ::_exit(code);
    }
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0) {
    }
    return status;
}

bool exited_with(int status, int code) { return WIFEXITED(status) && WEXITSTATUS(status) == code; }
bool killed_by(int status, int signal) { return WIFSIGNALED(status) && WTERMSIG(status) == signal; }

// The production allowlist, plus what the sanitizer runtimes themselves call in sanitized
// builds: UBSan's vptr check probes memory through a pipe (IsAccessibleMemoryRange). The
// backend never does; production binaries are not sanitized.
confine::SyscallAllowlist tested_allowlist() {
    auto list = display_allowlist();
#ifdef TWOFOLD_SANITIZED
    list.allow("pipe2").allow("pipe");
#endif
    return list;
}

void confine_as_production() {
    // "nobody" stands in for twofold-display, which exists only in dom0's image.
    confine::drop_privileges("nobody");
    confine::install_seccomp(tested_allowlist(), confine::SeccompMode::Kill);
}

// Everything a running display backend has: two guests, the focus link, a presenter.
struct RunningBackend {
    loopback::Hypervisor hv;
    xenbus::testing::Toolstack toolstack{hv};
    std::unique_ptr<xen::Platform> dom0 = hv.platform(xen::kDom0);
    HeadlessTarget target{kW, kH};
    SocketPair link;
    FbFront personal{hv, toolstack, "personal"};
    FbFront secure{hv, toolstack, "secure"};
    DisplayBackend backend{*dom0,
                           target,
                           DisplayBackendConfig{{{"personal", {"personal", Trust::Personal}},
                                                 {"secure", {"secure", Trust::Secure}}},
                                                kStrip,
                                                VfbConfig{1U << 20},
                                                std::chrono::microseconds(1000),
                                                8,
                                                link.backend},
                           std::make_shared<spdlog::logger>("test", std::make_shared<spdlog::sinks::null_sink_mt>())};
    FocusPeer peer{link, [this](const std::function<bool()>& predicate) { return run_until(predicate); }};

    bool run_until(const std::function<bool()>& predicate) {
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
        while (!predicate()) {
            if (std::chrono::steady_clock::now() >= deadline || backend.io().stopped()) return false;
            backend.io().run_for(std::chrono::milliseconds(2));
        }
        return true;
    }
    bool start() {
        backend.start();
        if (!std::holds_alternative<focus::Hello>(peer.next())) return false;
        personal.start(kMode);
        secure.start(kMode);
        if (!run_until([&] { return personal.backend_state() == "4" && secure.backend_state() == "4"; })) return false;
        personal.fill(0x00200000);
        secure.fill(0x00002000);
        return true;
    }
};

TEST(DisplayConfinement, ConfinedBackendPresentsAndAcksAFocusOrder) {
    const int status = run_in_child([] {
        RunningBackend running;
        if (!running.start()) return 2;
        confine_as_production();
        if (!running.peer.send(focus::Focus{"secure", 5})) return 3;
        const auto reply = running.peer.next();
        if (!std::holds_alternative<focus::Ack>(reply) || std::get<focus::Ack>(reply).epoch != 5) return 4;
        if (running.target.screen().at(5, kStrip + 5) != 0x00002000U) return 5;
        // An update through the secure guest's ring reaches the screen, still confined.
        running.secure.set(7, 7, 0x00003000);
        if (!running.secure.update_if_room(7, 7, 1, 1)) return 6;
        if (!running.run_until([&] { return running.target.screen().at(7, kStrip + 7) == 0x00003000U; })) return 7;
        return 0;
    });
    EXPECT_TRUE(exited_with(status, 0)) << "child status " << status;
}

TEST(DisplayConfinement, OpeningAFileAfterConfinementKillsTheBackend) {
    const int status = run_in_child([] {
        RunningBackend running;
        if (!running.start()) return 2;
        confine_as_production();
        const int fd = ::open("/etc/hostname", O_RDONLY | O_CLOEXEC);
        return fd >= 0 ? 0 : 1;
    });
    EXPECT_TRUE(killed_by(status, SIGSYS)) << "child status " << status;
}

TEST(DisplayConfinement, DrmPresentIoctlsPassTheFilterOthersKill) {
    const int allowed = run_in_child([] {
        const int fd = ::open("/dev/null", O_RDWR | O_CLOEXEC);
        confine::install_seccomp(tested_allowlist(), confine::SeccompMode::Kill);
        drm_mode_crtc_page_flip flip{};
        // /dev/null answers ENOTTY: the call got through the filter to the kernel.
        return ::ioctl(fd, DRM_IOCTL_MODE_PAGE_FLIP, &flip) < 0 && errno == ENOTTY ? 0 : 1;
    });
    EXPECT_TRUE(exited_with(allowed, 0)) << "child status " << allowed;

    const int refused = run_in_child([] {
        const int fd = ::open("/dev/null", O_RDWR | O_CLOEXEC);
        confine::install_seccomp(tested_allowlist(), confine::SeccompMode::Kill);
        drm_mode_card_res resources{};
        // Mode probing is done before confinement; afterwards it is not allowed.
        return ::ioctl(fd, DRM_IOCTL_MODE_GETRESOURCES, &resources) < 0 ? 0 : 1;
    });
    EXPECT_TRUE(killed_by(refused, SIGSYS)) << "child status " << refused;
}

TEST(DisplayConfinement, AllowlistHasNoWayToOpenOrSpawn) {
    const auto list = display_allowlist();
    for (const char* syscall : {"open", "openat", "socket", "connect", "execve", "clone", "fork", "ptrace"}) {
        EXPECT_FALSE(list.contains(syscall)) << syscall;
    }
    const auto ioctl = list.rule("ioctl");
    ASSERT_TRUE(ioctl.has_value()); // narrowed, not allowed outright
    EXPECT_TRUE(ioctl->values.contains(DRM_IOCTL_MODE_PAGE_FLIP));
    EXPECT_FALSE(ioctl->values.contains(DRM_IOCTL_MODE_GETRESOURCES));
}

} // namespace
} // namespace twofold::display
