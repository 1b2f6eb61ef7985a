// The sound backend's allowlist in forked children: what the backend does after confining
// (ALSA PCM requests, alsa-lib's own work on an opened PCM) survives; opening anything and
// ALSA's control device kill.
#include <sound/asound.h> // the kernel's request numbers, not alsa-lib
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <spdlog/sinks/null_sink.h>

#include "twofold/sound/alsa_sink.h"
#include "twofold/sound/confinement.h"

namespace twofold::sound {
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

// The sanitizer runtimes probe memory through a pipe; the board's unsanitized backend never does.
confine::SyscallAllowlist tested_allowlist() {
    auto list = sound_allowlist();
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

TEST(SoundConfinement, PlayingOnAnAlsaPcmOpenedBeforeConfiningSurvives) {
    const int status = run_in_child([] {
        AlsaSink sink("null", "", std::make_shared<spdlog::logger>("t", std::make_shared<spdlog::sinks::null_sink_st>()));
        confine::install_seccomp(tested_allowlist(), confine::SeccompMode::Kill);
        auto stream = sink.open(StreamKey{"personal", {0, 0}}, Direction::Playback, PcmParams{48000, SampleFormat::S16Le, 2});
        if (!stream) return 2;
        const std::vector<std::byte> frames(4096);
        return stream->write(frames) == frames.size() ? 0 : 3;
    });
    EXPECT_TRUE(exited_ok(status)) << status;
}

TEST(SoundConfinement, PcmRequestsSurvive) {
    const int status = run_in_child([] {
        const int fd = open("/dev/null", O_RDWR);
        confine::install_seccomp(tested_allowlist(), confine::SeccompMode::Kill);
        int version = 0;
        ioctl(fd, SNDRV_PCM_IOCTL_PVERSION, &version); // ENOTTY on /dev/null, but let through
        ioctl(fd, SNDRV_PCM_IOCTL_PREPARE);
        return 0;
    });
    EXPECT_TRUE(exited_ok(status)) << status;
}

TEST(SoundConfinement, AlsaControlRequestKills) {
    const int status = run_in_child([] {
        const int fd = open("/dev/null", O_RDWR);
        confine::install_seccomp(tested_allowlist(), confine::SeccompMode::Kill);
        snd_ctl_card_info* info = nullptr;
        ioctl(fd, SNDRV_CTL_IOCTL_CARD_INFO, info);
        return 0;
    });
    EXPECT_TRUE(killed_by_sigsys(status)) << status;
}

TEST(SoundConfinement, OpeningADeviceAfterConfiningKills) {
    const int status = run_in_child([] {
        confine::install_seccomp(tested_allowlist(), confine::SeccompMode::Kill);
        const int fd = open("/dev/snd/pcmC0D0p", O_RDWR);
        return fd >= 0 ? 0 : 1;
    });
    EXPECT_TRUE(killed_by_sigsys(status)) << status;
}

} // namespace
} // namespace twofold::sound
