#include <seccomp.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cerrno>
#include <memory>
#include <stdexcept>

#include "twofold/confine/confine.h"

namespace twofold::confine {

SyscallAllowlist::SyscallAllowlist(std::string name) : name_(std::move(name)) {}

SyscallAllowlist& SyscallAllowlist::allow(std::string_view syscall) {
    entries_.insert_or_assign(std::string(syscall), std::nullopt);
    return *this;
}

SyscallAllowlist& SyscallAllowlist::allow_if_argument(std::string_view syscall, unsigned index,
                                                      const std::set<std::uint64_t>& values, bool mask32) {
    if (index > 5) throw std::invalid_argument("syscall argument index above 5: " + std::string(syscall));
    auto it = entries_.find(syscall);
    if (it == entries_.end() || !it->second) {
        entries_.insert_or_assign(std::string(syscall), ArgumentRule{index, values, mask32, {}});
        return *this;
    }
    if (it->second->index != index || it->second->mask32 != mask32) {
        throw std::invalid_argument("conflicting argument rules for " + std::string(syscall));
    }
    it->second->values.insert(values.begin(), values.end());
    return *this;
}

SyscallAllowlist& SyscallAllowlist::allow_ioctls(const std::set<std::uint64_t>& requests) {
    return allow_if_argument("ioctl", 1, requests, true);
}

SyscallAllowlist& SyscallAllowlist::allow_ioctl_family(std::uint64_t mask, std::uint64_t value) {
    allow_if_argument("ioctl", 1, {}, true);
    entries_.find(std::string_view("ioctl"))->second->masked.emplace(mask & 0xffffffffULL, value & mask & 0xffffffffULL);
    return *this;
}

SyscallAllowlist& SyscallAllowlist::allow_if_masked(std::string_view syscall, unsigned index, std::uint64_t mask,
                                                    std::uint64_t value) {
    if ((value & ~mask) != 0) {
        // Such a rule could never match: a programming error, not a stricter filter.
        throw std::invalid_argument("masked rule value has bits outside its mask: " + std::string(syscall));
    }
    allow_if_argument(syscall, index, {}, false);
    entries_.find(syscall)->second->masked.emplace(mask, value);
    return *this;
}

SyscallAllowlist& SyscallAllowlist::deny(std::string_view syscall) {
    if (auto it = entries_.find(syscall); it != entries_.end()) entries_.erase(it);
    return *this;
}

SyscallAllowlist& SyscallAllowlist::merge(const SyscallAllowlist& other) {
    for (const auto& [syscall, rule] : other.entries_) {
        auto mine = entries_.find(syscall);
        if (!rule) {
            allow(syscall);
        } else if (mine == entries_.end()) {
            entries_.emplace(syscall, rule);
        } else if (mine->second) {
            allow_if_argument(syscall, rule->index, rule->values, rule->mask32);
            mine->second->masked.insert(rule->masked.begin(), rule->masked.end());
        }
        // else: already unconditional here, which is wider than the other's rule.
    }
    return *this;
}

bool SyscallAllowlist::contains(std::string_view syscall) const { return entries_.find(syscall) != entries_.end(); }

std::optional<ArgumentRule> SyscallAllowlist::rule(std::string_view syscall) const {
    auto it = entries_.find(syscall);
    return it == entries_.end() ? std::nullopt : it->second;
}

std::vector<std::string> SyscallAllowlist::syscalls() const {
    std::vector<std::string> names;
    names.reserve(entries_.size());
    for (const auto& entry : entries_) names.push_back(entry.first);
    return names;
}

SyscallAllowlist base_allowlist() {
    SyscallAllowlist list("base");
    // I/O on descriptors opened before confinement (devices, eventfds, the focus socket).
    for (const char* name : {"read", "write", "readv", "writev", "pread64", "close", "lseek", "fcntl",
                             "recvmsg", "sendmsg", "recvfrom", "sendto", "shutdown"}) {
        list.allow(name);
    }
    // Device control (Xen privcmd/evtchn/gntdev, evdev, DRM): backends narrow it with
    // allow_ioctls() to their own request numbers.
    list.allow("ioctl");
    // Asio's epoll reactor, its eventfd interrupter and timerfd timers; poll/select for
    // libraries that wait on one descriptor (libxenstore).
    for (const char* name : {"epoll_create1", "epoll_ctl", "epoll_wait", "epoll_pwait", "epoll_pwait2",
                             "eventfd2", "timerfd_create", "timerfd_settime", "timerfd_gettime", "poll",
                             "ppoll", "select", "pselect6"}) {
        list.allow(name);
    }
    // libxenstore creates its watch-notification pipe lazily, on the first xs_fileno() or
    // watch, which can come after confinement (seen on the board: the input backend was
    // killed on pipe2).
    list.allow("pipe2");
    // Memory: allocator and grant/foreign mappings (mmap on an already open device fd), never
    // executable: mmap and mprotect only with PROT_EXEC clear in their prot argument (index 2).
    // mremap keeps a mapping's protection, so it cannot add PROT_EXEC.
    for (const char* name : {"munmap", "mremap", "brk", "madvise"}) list.allow(name);
    for (const char* name : {"mmap", "mprotect"}) list.allow_if_masked(name, 2, PROT_EXEC, 0);
    // Threads already running (spdlog, Asio) synchronise and exit.
    for (const char* name : {"futex", "sched_yield", "set_robust_list", "rseq", "exit", "exit_group"}) {
        list.allow(name);
    }
    // Time, for timers and log timestamps (vDSO fallback).
    for (const char* name : {"clock_gettime", "clock_getres", "clock_nanosleep", "nanosleep", "gettimeofday"}) {
        list.allow(name);
    }
    // Signals: Asio's signal_set and returning from handlers.
    for (const char* name : {"rt_sigreturn", "rt_sigprocmask", "rt_sigaction", "sigaltstack", "restart_syscall"}) {
        list.allow(name);
    }
    // stdio asks fstat once per stream; identity for log lines; random for hash seeds.
    for (const char* name : {"fstat", "newfstatat", "getpid", "gettid", "getuid", "geteuid", "getrandom"}) {
        list.allow(name);
    }
    // abort() signals its own process; no other target (kill, tgkill elsewhere) is allowed.
    list.allow_if_argument("tgkill", 0, {static_cast<std::uint64_t>(getpid())});
    return list;
}

std::string_view to_string(SeccompMode mode) noexcept { return mode == SeccompMode::Kill ? "kill" : "log"; }

std::optional<SeccompMode> parse_seccomp_mode(std::string_view text) noexcept {
    if (text == "kill") return SeccompMode::Kill;
    if (text == "log") return SeccompMode::Log;
    return std::nullopt;
}

namespace {

struct FilterDeleter {
    void operator()(void* filter) const noexcept { seccomp_release(filter); }
};
using Filter = std::unique_ptr<void, FilterDeleter>;

void check(int rc, const std::string& subject, const char* what) {
    // libseccomp returns -errno.
    if (rc < 0) throw ConfineError(-rc, subject, what);
}

// SCMP_CMP() is a C99 compound literal, which C++ compilers only accept as an extension.
scmp_arg_cmp masked_equal(unsigned index, scmp_datum_t mask, scmp_datum_t value) noexcept {
    scmp_arg_cmp compare{};
    compare.arg = index;
    compare.op = SCMP_CMP_MASKED_EQ;
    compare.datum_a = mask;
    compare.datum_b = value;
    return compare;
}

} // namespace

SeccompReport install_seccomp(const SyscallAllowlist& allowlist, SeccompMode mode) {
    const std::uint32_t default_action = mode == SeccompMode::Kill ? SCMP_ACT_KILL_PROCESS : SCMP_ACT_LOG;
    Filter filter(seccomp_init(default_action));
    if (!filter) throw ConfineError(ENOMEM, allowlist.name(), "seccomp_init failed");
    // Every thread, including spdlog's or a library's started before confinement.
    check(seccomp_attr_set(filter.get(), SCMP_FLTATR_CTL_TSYNC, 1), allowlist.name(), "seccomp TSYNC");

    SeccompReport report;
    for (const auto& name : allowlist.syscalls()) {
        const int number = seccomp_syscall_resolve_name(name.c_str());
        if (number == __NR_SCMP_ERROR) throw ConfineError(EINVAL, name, "unknown syscall name in allowlist");
        if (number < 0) {
            // Known to libseccomp but not on this architecture (e.g. poll on aarch64).
            report.skipped.push_back(name);
            continue;
        }
        const auto rule = allowlist.rule(name);
        if (!rule) {
            check(seccomp_rule_add(filter.get(), SCMP_ACT_ALLOW, number, 0), name, "seccomp_rule_add");
        } else {
            const scmp_datum_t mask = rule->mask32 ? 0xffffffffULL : ~scmp_datum_t{0};
            for (const std::uint64_t value : rule->values) {
                check(seccomp_rule_add(filter.get(), SCMP_ACT_ALLOW, number, 1,
                                       masked_equal(rule->index, mask, value & mask)),
                      name, "seccomp_rule_add with argument");
            }
            for (const auto& [family_mask, family_value] : rule->masked) {
                check(seccomp_rule_add(filter.get(), SCMP_ACT_ALLOW, number, 1,
                                       masked_equal(rule->index, family_mask, family_value)),
                      name, "seccomp_rule_add with masked argument");
            }
        }
        ++report.installed;
    }

    // Also done by drop_privileges; repeated because a caller may confine without dropping.
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) throw ConfineError(errno, allowlist.name(), "PR_SET_NO_NEW_PRIVS");
    check(seccomp_load(filter.get()), allowlist.name(), "seccomp_load failed");
    return report;
}

} // namespace twofold::confine
