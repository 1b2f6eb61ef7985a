// Confinement every dom0 backend applies once it has opened all its devices and handles:
// first drop_privileges() to its own user, then install_seccomp() with an allowlist built
// from base_allowlist() plus the backend's extra syscalls.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <utility>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace twofold::confine {

// Every failure carries errno (as code()) and the user or syscall it concerns, so a backend's
// log line says exactly why it refused to run unconfined.
class ConfineError : public std::system_error {
public:
    ConfineError(int error_number, std::string subject, const std::string& what);
    const std::string& subject() const noexcept { return subject_; }

private:
    std::string subject_;
};

// Switches the process to `user` for good: groups from getgrouplist (the primary group plus
// the user's supplementary groups, so a backend user can be in `input`/`video`), then
// setresgid and setresuid, then verifies root cannot be regained, then PR_SET_NO_NEW_PRIVS.
// Refuses uid 0: "dropping" to root confines nothing. Throws ConfineError.
void drop_privileges(const std::string& user);

// One rule per syscall: either allowed unconditionally or only when one argument equals one
// of a listed set of values (e.g. ioctl only for the listed request numbers).
struct ArgumentRule {
    unsigned index = 0;                  // 0..5
    std::set<std::uint64_t> values;      // compared on the low 32 bits when mask32 is set
    bool mask32 = false;                 // ioctl request numbers are 32-bit in the kernel
    // Further (mask, value) matches: allowed when (argument & mask) == value. For families of
    // requests that differ only in a size or number field (e.g. every EVIOCG* read query).
    std::set<std::pair<std::uint64_t, std::uint64_t>> masked;
};

class SyscallAllowlist {
public:
    explicit SyscallAllowlist(std::string name);

    const std::string& name() const noexcept { return name_; }

    // Allows `syscall` with any arguments (drops an argument rule if there was one).
    SyscallAllowlist& allow(std::string_view syscall);
    // Allows `syscall` only when argument `index` is one of `values`; repeated calls with the
    // same index add values. A different index for the same syscall is a programming error
    // (std::invalid_argument): one syscall, one rule keeps the filter reviewable.
    SyscallAllowlist& allow_if_argument(std::string_view syscall, unsigned index,
                                        const std::set<std::uint64_t>& values, bool mask32 = false);
    // Narrows ioctl to these request numbers (arg 1, low 32 bits).
    SyscallAllowlist& allow_ioctls(const std::set<std::uint64_t>& requests);
    // Also allows ioctl requests whose bits under `mask` equal `value` (arg 1). Same rule as
    // allow_ioctls(): an unconditional ioctl becomes narrowed to what is listed.
    SyscallAllowlist& allow_ioctl_family(std::uint64_t mask, std::uint64_t value);
    // Allows `syscall` only when (argument `index` & mask) == value, e.g. mmap only without
    // PROT_EXEC. Adds to an existing rule on the same index (values and masks both allow);
    // a syscall allowed unconditionally becomes narrowed to what is listed.
    SyscallAllowlist& allow_if_masked(std::string_view syscall, unsigned index, std::uint64_t mask,
                                      std::uint64_t value);
    // Removes `syscall` (a backend that must not have something base_allowlist() grants).
    SyscallAllowlist& deny(std::string_view syscall);
    // Adds every entry of `other`; an unconditional entry on either side wins.
    SyscallAllowlist& merge(const SyscallAllowlist& other);

    bool contains(std::string_view syscall) const;
    // Empty when the syscall is absent or unconditional.
    std::optional<ArgumentRule> rule(std::string_view syscall) const;
    std::vector<std::string> syscalls() const;
    std::size_t size() const noexcept { return entries_.size(); }

private:
    std::string name_;
    std::map<std::string, std::optional<ArgumentRule>, std::less<>> entries_;
};

// What an Asio (epoll/eventfd/timerfd) process with spdlog on stderr needs after start-up,
// for x86_64 and aarch64 alike (names one architecture lacks are skipped at install time).
// mmap and mprotect are allowed only without PROT_EXEC (pkey_mprotect not at all): a backend
// maps nothing executable after start, so code injected into it cannot be made runnable by
// mapping or re-protecting memory (issue 14); only a return-oriented chain of existing code
// remains, which the rest of the list bounds.
// Deliberately absent: openat/open (a backend opens every device before confining, so a
// compromised backend cannot open anything new), socket/connect/bind (the focus link and
// xenstore connections already exist), clone/execve/fork (no new processes or threads),
// ptrace, mount, kill (tgkill is limited to this process, for abort()).
SyscallAllowlist base_allowlist();

enum class SeccompMode {
    Kill,  // default action SCMP_ACT_KILL_PROCESS: production
    Log,   // default action SCMP_ACT_LOG: allowed but logged by the kernel, for building a list
};

std::string_view to_string(SeccompMode mode) noexcept;
std::optional<SeccompMode> parse_seccomp_mode(std::string_view text) noexcept;

struct SeccompReport {
    std::size_t installed = 0;              // syscalls with a rule in the loaded filter
    std::vector<std::string> skipped;       // names this architecture does not have
};

// Loads the filter for every thread of the process (TSYNC), after PR_SET_NO_NEW_PRIVS.
// Unknown names are errors; names known to libseccomp but absent on this architecture are
// skipped and reported. Throws ConfineError.
SeccompReport install_seccomp(const SyscallAllowlist& allowlist, SeccompMode mode);

// The Xen device requests of a ring backend, made by libxenevtchn (bind, unbind, notify) and
// libxengnttab (map, unmap, unmap notify, and the offset lookup xengnttab_unmap makes first):
// one list, so that no backend is killed for a library call another backend found.
[[nodiscard]] std::set<std::uint64_t> xen_ring_ioctls();
// libxenforeignmemory's requests, for a backend that maps guest frames by number (vfb).
[[nodiscard]] std::set<std::uint64_t> xen_foreign_map_ioctls();

} // namespace twofold::confine
