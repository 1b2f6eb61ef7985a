#include <grp.h>
#include <pwd.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

#include "twofold/confine/confine.h"

namespace twofold::confine {

ConfineError::ConfineError(int error_number, std::string subject, const std::string& what)
    : std::system_error(error_number, std::generic_category(), what + " (" + subject + ")"),
      subject_(std::move(subject)) {}

namespace {

struct Account {
    uid_t uid;
    gid_t gid;
};

// getpwnam_r: the reentrant form, because a backend may already run logging threads.
Account look_up(const std::string& user) {
    long hint = sysconf(_SC_GETPW_R_SIZE_MAX);
    std::vector<char> buffer(hint > 0 ? static_cast<std::size_t>(hint) : 16384);
    passwd entry{};
    passwd* found = nullptr;
    for (;;) {
        const int rc = getpwnam_r(user.c_str(), &entry, buffer.data(), buffer.size(), &found);
        if (rc == ERANGE && buffer.size() < (1U << 20)) {
            buffer.resize(buffer.size() * 2);
            continue;
        }
        if (rc != 0) throw ConfineError(rc, user, "cannot look up user");
        if (found == nullptr) throw ConfineError(ENOENT, user, "no such user");
        return Account{entry.pw_uid, entry.pw_gid};
    }
}

std::vector<gid_t> groups_of(const std::string& user, gid_t primary) {
    int count = 16;
    std::vector<gid_t> groups(static_cast<std::size_t>(count));
    while (getgrouplist(user.c_str(), primary, groups.data(), &count) < 0) {
        if (count > 65536) throw ConfineError(E2BIG, user, "too many supplementary groups");
        groups.resize(static_cast<std::size_t>(count));
    }
    groups.resize(static_cast<std::size_t>(count));
    return groups;
}

void check(int rc, const std::string& user, const char* what) {
    if (rc != 0) throw ConfineError(errno, user, what);
}

} // namespace

void drop_privileges(const std::string& user) {
    const Account account = look_up(user);
    if (account.uid == 0) throw ConfineError(EPERM, user, "refusing to 'drop' to uid 0");
    if (account.gid == 0) throw ConfineError(EPERM, user, "refusing to 'drop' to gid 0");
    const auto groups = groups_of(user, account.gid);
    for (const gid_t group : groups) {
        // A root group among the supplementary ones would keep root-group file access.
        if (group == 0) throw ConfineError(EPERM, user, "user is in group 0");
    }

    // Groups first: once the uid is dropped we no longer have the right to change them.
    check(setgroups(groups.size(), groups.data()), user, "setgroups failed");
    check(setresgid(account.gid, account.gid, account.gid), user, "setresgid failed");
    check(setresuid(account.uid, account.uid, account.uid), user, "setresuid failed");

    // Verify rather than trust: a saved-set id or a capability left behind would let a
    // compromised backend become root again.
    if (setuid(0) == 0 || seteuid(0) == 0) throw ConfineError(EPERM, user, "could regain uid 0 after dropping");
    if (setgid(0) == 0 || setegid(0) == 0) throw ConfineError(EPERM, user, "could regain gid 0 after dropping");
    uid_t ruid = 0, euid = 0, suid = 0;
    gid_t rgid = 0, egid = 0, sgid = 0;
    check(getresuid(&ruid, &euid, &suid), user, "getresuid failed");
    check(getresgid(&rgid, &egid, &sgid), user, "getresgid failed");
    if (ruid != account.uid || euid != account.uid || suid != account.uid || rgid != account.gid ||
        egid != account.gid || sgid != account.gid) {
        throw ConfineError(EPERM, user, "ids differ from the account's after dropping");
    }

    check(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), user, "PR_SET_NO_NEW_PRIVS failed");
}

} // namespace twofold::confine
