#pragma once
// Starting a backend process with its end of the focus link. posix_spawn (not fork): the
// manager may have threads (libvirt's event loop), and nothing may allocate between fork and
// exec in a threaded process; glibc's posix_spawn does the fd work in the child itself.
#include <sys/types.h>

#include <span>
#include <string>
#include <vector>

#include "twofold/xen/unique_fd.h"

namespace twofold::manager {

// The fd number the backend finds its end of the focus link on (`--focus-fd 3`).
inline constexpr int kFocusFd = 3;
// The fd number of its xenstore link, when the manager proxies its xenstore (`--xenstore-fd 4`).
inline constexpr int kXenStoreFd = 4;

// The first fd number of the descriptors passed on besides the two links (a per-persona
// backend's peer link: `--peer-fd 5`; the peer's links: 5, 6, ...).
inline constexpr int kFirstExtraFd = kXenStoreFd + 1;

// A descriptor of the manager's to give the child as fd `as` (>= kFirstExtraFd). The
// manager's copy is left as it is (close-on-exec: it reaches no other child).
struct ExtraFd {
    int fd = -1;
    int as = -1;
};

struct SpawnedBackend {
    pid_t pid = -1;
    xen::UniqueFd link;     // the manager's end of the socketpair (close-on-exec)
    xen::UniqueFd xenstore; // the manager's end of the xenstore link, if one was asked for
};

// Runs argv (argv[0] an absolute path) with a fresh SOCK_STREAM socketpair's other end on fd
// kFocusFd, stdin from /dev/null, stdout/stderr inherited (the manager's log), every other fd
// closed, default signal dispositions and an empty signal mask. With `xenstore_link`, a second
// socketpair's other end is on fd kXenStoreFd. Each of `extra` is on its own fd number (distinct,
// >= kFirstExtraFd; fd kXenStoreFd stays closed without `xenstore_link`). Throws std::system_error.
[[nodiscard]] SpawnedBackend spawn_with_focus_link(const std::vector<std::string>& argv, bool xenstore_link = false,
                                                   std::span<const ExtraFd> extra = {});

// Runs argv to completion, waiting at most `timeout_ms`; returns the wait status or -1 if it
// could not start or did not finish (then it is killed).
int run_and_wait(const std::vector<std::string>& argv, int timeout_ms);

} // namespace twofold::manager
