#include "twofold/manager/broker_client.h"

#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <system_error>
#include <thread>

#include <spdlog/spdlog.h>

#include "twofold/manager/child_process.h"

namespace twofold::manager {

namespace lb = libvirt_broker;

namespace {

std::string describe_exit(int status) {
    if (WIFEXITED(status)) {
        return "exited with status " + std::to_string(WEXITSTATUS(status));
    }
    if (WIFSIGNALED(status)) {
        return std::string("killed by signal ") + std::to_string(WTERMSIG(status)) +
               (WTERMSIG(status) == SIGSYS ? " (SIGSYS: a syscall outside its seccomp allowlist)" : "");
    }
    return "stopped";
}

int remaining_ms(std::chrono::steady_clock::time_point deadline) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    return left.count() <= 0 ? 0 : static_cast<int>(std::min<std::int64_t>(left.count(), 60000));
}

template <typename T>
T expect(std::optional<lb::Result> result, const char* op) {
    if (!result) {
        throw LibvirtError(std::string("libvirt broker: ") + op + ": no such domain");
    }
    return std::get<T>(std::move(*result)); // parse_reply gave the op's shape
}

} // namespace

std::filesystem::path default_broker_path(const std::filesystem::path& own_executable) {
    return (own_executable.parent_path() / ".." / "libexec" / "twofold" / "twofold-libvirt-broker").lexically_normal();
}

BrokerClient::BrokerClient(BrokerOptions options) : options_(std::move(options)), backoff_(options_.backoff_min) {}

BrokerClient::~BrokerClient() { stop_broker(); }

std::vector<std::string> BrokerClient::broker_argv() const {
    std::vector<std::string> argv{options_.program.string(), "--libvirt", options_.uri, "--link-fd", std::to_string(kFocusFd)};
    if (!options_.confine) {
        argv.emplace_back("--no-confine");
    } else {
        argv.insert(argv.end(), {"--seccomp", options_.seccomp});
        if (!options_.user.empty()) {
            argv.insert(argv.end(), {"--user", options_.user});
        }
    }
    return argv;
}

void BrokerClient::stop_broker() {
    if (pid_ < 0) {
        return;
    }
    link_ = xen::UniqueFd(); // EOF: a healthy broker exits by itself
    int status = 0;
    for (int i = 0; i < 100; ++i) {
        if (::waitpid(pid_, &status, WNOHANG) == pid_) {
            pid_ = -1;
            return;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ::kill(pid_, SIGKILL); // not reaped yet, so the pid is still ours
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
}

void BrokerClient::reap_if_exited() {
    if (pid_ < 0) {
        return;
    }
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        // Between calls, e.g. after libvirtd dropped its connection: the next call starts a new one.
        spdlog::warn("libvirt broker (pid {}) {} while idle; starting a new one", pid_, describe_exit(status));
        last_error_ = "broker " + describe_exit(status) + " while idle";
        pid_ = -1;
        link_ = xen::UniqueFd();
    }
}

void BrokerClient::ensure_running() {
    reap_if_exited();
    if (pid_ >= 0) {
        return;
    }
    const auto now = Clock::now();
    if (next_spawn_at_ && now < *next_spawn_at_) {
        const auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(*next_spawn_at_ - now);
        throw LibvirtError("libvirt broker failed (" + last_error_ + "); not restarted for another " +
                           std::to_string(wait.count()) + " ms");
    }
    try {
        auto spawned = spawn_with_focus_link(broker_argv());
        pid_ = spawned.pid;
        link_ = std::move(spawned.link);
    } catch (const std::system_error& e) {
        hold_off_respawn(e.what());
        spdlog::error("libvirt broker: cannot start {}: {}", options_.program.string(), e.what());
        throw LibvirtError("cannot start the libvirt broker " + options_.program.string() + ": " + e.what());
    }
    ++spawns_;
    spdlog::info("libvirt broker started (pid {}, {})", pid_, options_.uri);
}

void BrokerClient::hold_off_respawn(std::string why) {
    last_error_ = std::move(why);
    next_spawn_at_ = Clock::now() + backoff_;
    backoff_ = std::min(std::max(backoff_ * 2, options_.backoff_min), options_.backoff_max);
}

void BrokerClient::fail(const std::string& why, bool link_closed) {
    std::string message = "libvirt broker (pid " + std::to_string(pid_) + "): " + why;
    if (pid_ >= 0) {
        int status = 0;
        pid_t reaped = ::waitpid(pid_, &status, WNOHANG);
        // It closed the link: it is exiting. Give it a moment, so the error can say how it ended
        // (e.g. status 3: libvirt connection failed).
        for (int i = 0; link_closed && reaped == 0 && i < 50; ++i) {
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
            reaped = ::waitpid(pid_, &status, WNOHANG);
        }
        if (reaped == pid_) {
            message += "; it " + describe_exit(status);
        } else {
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, &status, 0);
            message += "; killed";
        }
        pid_ = -1;
    }
    link_ = xen::UniqueFd();
    hold_off_respawn(why);
    spdlog::error("{}", message);
    throw LibvirtError(message);
}

void BrokerClient::send_line(const std::string& line, Clock::time_point deadline) {
    std::size_t sent = 0;
    while (sent < line.size()) {
        pollfd p{link_.get(), POLLOUT, 0};
        const int ready = ::poll(&p, 1, remaining_ms(deadline));
        if (ready < 0 && errno == EINTR) {
            continue;
        }
        if (ready == 0) {
            fail("did not take the request within " + std::to_string(options_.reply_timeout.count()) + " ms");
        }
        const ssize_t n = ::send(link_.get(), line.data() + sent, line.size() - sent, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0) {
            if (errno == EAGAIN || errno == EINTR) {
                continue;
            }
            fail(std::string("cannot send the request: ") + std::strerror(errno), errno == EPIPE || errno == ECONNRESET);
        }
        sent += static_cast<std::size_t>(n);
    }
}

std::string BrokerClient::receive_line(Clock::time_point deadline) {
    std::string buffer;
    char chunk[65536];
    for (;;) {
        pollfd p{link_.get(), POLLIN, 0};
        const int ready = ::poll(&p, 1, remaining_ms(deadline));
        if (ready < 0 && errno == EINTR) {
            continue;
        }
        if (ready == 0) {
            if (Clock::now() >= deadline) {
                fail("no reply within " + std::to_string(options_.reply_timeout.count()) + " ms");
            }
            continue;
        }
        const ssize_t n = ::recv(link_.get(), chunk, sizeof chunk, MSG_DONTWAIT);
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
            continue;
        }
        // ECONNRESET: it exited with our request unread, which is closing the link too.
        if (n == 0 || (n < 0 && errno == ECONNRESET)) {
            fail(buffer.empty() ? "closed the link before replying" : "closed the link in the middle of a reply",
                 /*link_closed=*/true);
        }
        if (n < 0) {
            fail(std::string("cannot read the reply: ") + std::strerror(errno));
        }
        const auto old = buffer.size();
        buffer.append(chunk, static_cast<std::size_t>(n));
        if (const auto end = buffer.find('\n', old); end != std::string::npos) {
            if (end + 1 != buffer.size()) {
                fail("sent more than one reply line to one request");
            }
            buffer.pop_back();
            if (buffer.size() > lb::kMaxLineBytes) {
                fail("reply line exceeds " + std::to_string(lb::kMaxLineBytes) + " bytes");
            }
            return buffer;
        }
        if (buffer.size() > lb::kMaxLineBytes) {
            fail("reply line exceeds " + std::to_string(lb::kMaxLineBytes) + " bytes");
        }
    }
}

std::optional<lb::Result> BrokerClient::call(lb::Op op, const std::string& arg) {
    ensure_running();
    const lb::Request request{next_id_++, op, arg};
    if (next_id_ > lb::kMaxId) {
        next_id_ = 1;
    }
    const auto deadline = Clock::now() + options_.reply_timeout;
    send_line(lb::encode_request(request) + '\n', deadline);
    const std::string line = receive_line(deadline);
    std::variant<lb::Result, lb::ReplyError> reply;
    try {
        reply = lb::parse_reply(request, line);
    } catch (const lb::ProtocolError& e) {
        fail(e.what());
    }
    backoff_ = options_.backoff_min; // a good reply: the broker is in step again
    next_spawn_at_.reset();
    if (auto* result = std::get_if<lb::Result>(&reply)) {
        return std::move(*result);
    }
    const auto& error = std::get<lb::ReplyError>(reply);
    switch (error.kind) {
    case lb::ErrorKind::NoDomain:
        if (op == lb::Op::Lookup) {
            return std::nullopt;
        }
        throw LibvirtError(error.message);
    case lb::ErrorKind::Libvirt: throw LibvirtError(error.message);
    case lb::ErrorKind::Request: break;
    }
    spdlog::error("libvirt broker refused a {} request: {}", lb::to_string(op), error.message);
    throw LibvirtError("libvirt broker refused the request: " + error.message);
}

std::vector<DomainInfo> BrokerClient::list_domains() {
    return expect<std::vector<DomainInfo>>(call(lb::Op::List, {}), "list");
}

std::optional<DomainInfo> BrokerClient::find(const std::string& name) {
    auto result = call(lb::Op::Lookup, name);
    if (!result) {
        return std::nullopt;
    }
    return std::get<DomainInfo>(std::move(*result));
}

DomainInfo BrokerClient::define_xml(const std::string& xml) { return expect<DomainInfo>(call(lb::Op::Define, xml), "define"); }

void BrokerClient::start(const std::string& name) { call(lb::Op::Start, name); }
void BrokerClient::start_paused(const std::string& name) { call(lb::Op::StartPaused, name); }
void BrokerClient::resume(const std::string& name) { call(lb::Op::Resume, name); }
void BrokerClient::shutdown(const std::string& name) { call(lb::Op::Shutdown, name); }
void BrokerClient::destroy(const std::string& name) { call(lb::Op::Destroy, name); }
void BrokerClient::undefine(const std::string& name) { call(lb::Op::Undefine, name); }
std::string BrokerClient::xml(const std::string& name) { return expect<std::string>(call(lb::Op::Xml, name), "xml"); }
std::string BrokerClient::uuid(const std::string& name) { return expect<std::string>(call(lb::Op::Uuid, name), "uuid"); }

DomainControlStatus BrokerClient::status() const {
    return DomainControlStatus{"broker", options_.uri, pid_, spawns_ > 0 ? spawns_ - 1 : 0, last_error_};
}

} // namespace twofold::manager
