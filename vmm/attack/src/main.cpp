// twofold-backend-attack --as PERSONA --target PERSONA [--backend display|vkbd|modem]...
//
// The taken-over backend of issue 14, on the board: for each backend class, each attempt runs
// in a fresh child that opens what a backend opens at start (event channel, privcmd, grant
// device, xenstore; as root), restricts its Xen handles to the persona it serves
// (Platform::restrict_to), drops to the backend's user and installs the backend's own seccomp
// filter, and then, as code that took the backend over would, tries to reach the other
// persona. Each attempt runs a second time without restrict_to (the control): it shows what
// the same user and filter reach without the restriction, so a denial is the restriction's
// doing, and the table could show an attempt allowed. One line per attempt:
//   TWOFOLD-BACKEND-ATTACK <as> <backend> <attempt> <verdict> <detail> | control: <...>
// and a last line `TWOFOLD-BACKEND-ATTACK <as> done ...`; exit status 0 when every cross
// attempt was denied, every own-persona attempt worked and the controls reached the target.
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

extern "C" {
#include <xenstore.h>
}

#include "attempts.h"
#include "targets.h"
#include "twofold/confine/confine.h"
#include "twofold/display/confinement.h"
#include "twofold/input/confinement.h"
#include "twofold/modem/backend/confinement.h"
#include "twofold/manager/xenstore_proxy.h"
#include "twofold/xen/error.h"
#include "twofold/xen/real_platform.h"
#include "twofold/xen/unique_fd.h"
#include "twofold/xenbus/proxied_xenstore.h"

namespace {

using namespace twofold;
using attack::Attempt;
using attack::Persona;

// A hung attempt (it should never block) ends as an error, not as a stuck test.
constexpr unsigned kAttemptSeconds = 20;
constexpr std::size_t kMaxResultBytes = 512;

struct Profile {
    std::string backend;
    std::string user;
    confine::SyscallAllowlist allowlist;
    bool own_foreign_map; // the backend maps its persona's frames by number
    xenbus::DeviceType type; // its device, as backends.toml's `xenstore` names it
    std::uint32_t devid;
};

// `as`: the persona served. The vkbd writer runs once per persona under a user of its own
// (backends.toml per_persona) and maps its persona's vkbd page by frame number.
std::vector<Profile> profiles(const std::string& as) {
    return {{"display", "twofold-display", display::display_allowlist(), true, xenbus::DeviceType::Vfb, 0},
            {"vkbd", "twofold-vkbd-" + as, input::vkbd_writer_allowlist(), true, xenbus::DeviceType::Vkbd, 0},
            {"modem", "twofold-modem", modem::backend::modem_allowlist(), false, xenbus::DeviceType::Console, 1}};
}

// The manager's side of a backend's xenstore link, as twofold-manager runs it (its own
// xenstored connection, its own thread here), for one child.
class ProxyForChild {
public:
    ProxyForChild(xen::UniqueFd socket, const Profile& profile, std::set<xen::DomId> frontends)
        : proxy_(io_, std::move(socket), std::make_unique<xen::RealXenStore>(), profile.type,
                 [](const std::string&, nlohmann::json) {}, [](const std::string&) {}) {
        proxy_.set_frontends(std::move(frontends));
        proxy_.start();
        thread_ = std::thread([this] { io_.run(); });
    }
    ~ProxyForChild() {
        work_.reset();
        io_.stop();
        thread_.join();
    }
    ProxyForChild(const ProxyForChild&) = delete;
    ProxyForChild& operator=(const ProxyForChild&) = delete;

private:
    boost::asio::io_context io_;
    boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_ = boost::asio::make_work_guard(io_);
    manager::XenStoreProxy proxy_;
    std::thread thread_;
};

struct Verdict {
    enum class Kind { Allowed, Denied, Error };
    Kind kind = Kind::Error;
    std::string detail;
};

std::string errno_name(int value) {
    const char* name = ::strerrorname_np(value);
    return name != nullptr ? name : "errno " + std::to_string(value);
}

void write_all(int fd, const std::string& text) {
    std::size_t done = 0;
    while (done < text.size()) {
        const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
        if (n <= 0) return;
        done += static_cast<std::size_t>(n);
    }
}

// The child: a backend serving `self`, taken over. Never returns.
[[noreturn]] void be_the_backend(int out, xen::UniqueFd proxy_link, const Profile& profile, const Attempt& attempt,
                                 bool restricted, const Persona& self, const Persona& other) {
    ::alarm(kAttemptSeconds);
    attack::Handles handles;
    try {
        handles = attack::open_backend_handles();
        handles.proxied = std::make_unique<xenbus::ProxiedXenStore>(std::move(proxy_link));
        handles.type = profile.type;
        handles.devid = profile.devid;
        if (restricted) handles.platform->restrict_to(self.domid);
        confine::drop_privileges(profile.user);
        (void)confine::install_seccomp(profile.allowlist, confine::SeccompMode::Kill);
    } catch (const std::exception& e) {
        write_all(out, std::string("error setup: ") + e.what());
        ::_exit(0);
    }
    std::string result;
    try {
        result = "allowed " + attempt.run(handles, self, other);
    } catch (const xen::XenError& e) {
        result = "denied " + errno_name(e.errno_value()) + " " + e.what();
    } catch (const attack::MissingTarget& e) {
        result = std::string("error ") + e.what();
    } catch (const std::exception& e) {
        result = std::string("error ") + e.what();
    }
    write_all(out, result);
    ::_exit(0);
}

Verdict run_child(const Profile& profile, const Attempt& attempt, bool restricted, const Persona& self,
                  const Persona& other) {
    int ends[2];
    if (::pipe2(ends, O_CLOEXEC) < 0) return {Verdict::Kind::Error, std::string("pipe: ") + std::strerror(errno)};
    xen::UniqueFd read_end(ends[0]);
    xen::UniqueFd write_end(ends[1]);
    int link[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, link) < 0) {
        return {Verdict::Kind::Error, std::string("socketpair: ") + std::strerror(errno)};
    }
    xen::UniqueFd manager_end(link[0]);
    xen::UniqueFd backend_end(link[1]);
    std::fflush(stdout);
    // Forked before the proxy's thread exists: the child of a threaded parent could inherit a
    // lock held by that thread.
    const pid_t pid = ::fork();
    if (pid < 0) return {Verdict::Kind::Error, std::string("fork: ") + std::strerror(errno)};
    if (pid == 0) {
        read_end.reset();
        manager_end.reset();
        be_the_backend(write_end.get(), std::move(backend_end), profile, attempt, restricted, self, other);
    }
    write_end.reset();
    backend_end.reset();
    // The restricted child's proxy admits its own persona, as a per-persona backend's would;
    // the control's admits both, as today's backends' (each serves both personas).
    std::set<xen::DomId> admitted{self.domid};
    if (!restricted) admitted.insert(other.domid);
    std::optional<ProxyForChild> proxy;
    try {
        proxy.emplace(std::move(manager_end), profile, admitted);
    } catch (const std::exception& e) {
        ::kill(pid, SIGKILL);
        int ignored = 0;
        ::waitpid(pid, &ignored, 0);
        return {Verdict::Kind::Error, std::string("xenstore proxy: ") + e.what()};
    }
    std::string line;
    char buffer[256];
    for (;;) {
        const ssize_t n = ::read(read_end.get(), buffer, sizeof buffer);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        if (line.size() < kMaxResultBytes) line.append(buffer, static_cast<std::size_t>(n));
    }
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
    if (WIFSIGNALED(status)) {
        if (WTERMSIG(status) == SIGSYS) return {Verdict::Kind::Denied, "seccomp: the filter killed the process (SIGSYS)"};
        return {Verdict::Kind::Error, "killed by signal " + std::to_string(WTERMSIG(status))};
    }
    for (char& c : line) {
        if (c == '\n' || c == '\r') c = ' ';
    }
    const auto space = line.find(' ');
    const std::string word = line.substr(0, space);
    const std::string detail = space == std::string::npos ? "" : line.substr(space + 1);
    if (word == "allowed") return {Verdict::Kind::Allowed, detail};
    if (word == "denied") return {Verdict::Kind::Denied, detail};
    return {Verdict::Kind::Error, line.empty() ? "no result" : line};
}

std::string describe(const Verdict& verdict) {
    switch (verdict.kind) {
    case Verdict::Kind::Allowed:
        return "allowed " + verdict.detail;
    case Verdict::Kind::Denied:
        return "denied " + verdict.detail;
    case Verdict::Kind::Error:
        break;
    }
    return "error " + verdict.detail;
}

struct Tally {
    unsigned attempts = 0, allowed = 0, errors = 0, own_broken = 0, profiles_without_control = 0;
};

void attack_as(const Profile& profile, const Persona& self, const Persona& other, Tally& tally) {
    bool control_reached = false;
    for (const Attempt& attempt : attack::attempts(profile.own_foreign_map)) {
        const Verdict verdict = run_child(profile, attempt, true, self, other);
        std::string word;
        std::string control;
        if (attempt.cross) {
            ++tally.attempts;
            const Verdict unrestricted = run_child(profile, attempt, false, self, other);
            control_reached = control_reached || unrestricted.kind == Verdict::Kind::Allowed;
            control = " | control (no restriction): " + describe(unrestricted);
            if (verdict.kind == Verdict::Kind::Denied) {
                word = "denied";
            } else if (verdict.kind == Verdict::Kind::Allowed) {
                word = "ALLOWED";
                ++tally.allowed;
            } else {
                word = "ERROR";
                ++tally.errors;
            }
        } else if (verdict.kind == Verdict::Kind::Allowed) {
            word = "works";
        } else {
            word = "BROKEN";
            ++tally.own_broken;
        }
        std::printf("TWOFOLD-BACKEND-ATTACK %s %s %s %s %s%s\n", self.name.c_str(), profile.backend.c_str(),
                    attempt.name.c_str(), word.c_str(), verdict.detail.c_str(), control.c_str());
    }
    if (!control_reached) ++tally.profiles_without_control;
}

} // namespace

int main(int argc, char** argv) {
    CLI::App app{"twofold taken-over-backend test: a backend serving one persona tries to reach the other"};
    std::string as;
    std::string target;
    std::vector<std::string> backends{"display", "vkbd", "modem"};
    app.add_option("--as", as, "the persona the backend serves (its domain name)")->required();
    app.add_option("--target", target, "the other persona (its domain name)")->required();
    app.add_option("--backend", backends, "backend classes whose user and seccomp filter to take")
        ->check(CLI::IsMember({"display", "vkbd", "modem"}));
    CLI11_PARSE(app, argc, argv);

    xs_handle* store = ::xs_open(0);
    if (store == nullptr) {
        std::printf("TWOFOLD-BACKEND-ATTACK %s done target=none (xs_open: %s)\n", as.c_str(), std::strerror(errno));
        return 1;
    }
    const auto self = attack::find_persona(store, as);
    const auto other = attack::find_persona(store, target);
    ::xs_close(store);
    if (!self || !other) {
        std::printf("TWOFOLD-BACKEND-ATTACK %s done target=none (%s not running)\n", as.c_str(),
                    !self ? as.c_str() : target.c_str());
        return 1;
    }
    const auto shown = [](const auto& value) { return value ? std::to_string(*value) : std::string("-"); };
    std::printf("TWOFOLD-BACKEND-ATTACK %s targets: %s domid %u vkbd frame %s grant %s port %s; own domid %u frame %s\n",
                as.c_str(), other->name.c_str(), other->domid, shown(other->vkbd_frame).c_str(),
                shown(other->vkbd_grant).c_str(), shown(other->vkbd_port).c_str(), self->domid,
                shown(self->vkbd_frame).c_str());
    Tally tally;
    for (const Profile& profile : profiles(as)) {
        if (std::find(backends.begin(), backends.end(), profile.backend) == backends.end()) continue;
        attack_as(profile, *self, *other, tally);
    }
    const bool ok = tally.allowed == 0 && tally.errors == 0 && tally.own_broken == 0 && tally.profiles_without_control == 0;
    std::printf("TWOFOLD-BACKEND-ATTACK %s done attempts=%u allowed=%u errors=%u own=%s controls=%s\n", as.c_str(),
                tally.attempts, tally.allowed, tally.errors, tally.own_broken == 0 ? "ok" : "broken",
                tally.profiles_without_control == 0 ? "ok" : "bad");
    return ok ? 0 : 1;
}
