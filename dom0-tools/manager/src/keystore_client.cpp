#include "twofold/manager/keystore_client.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <system_error>


#include "twofold/xen/unique_fd.h"

extern char** environ; // NOLINT: POSIX declares it nowhere else

namespace twofold::manager {
namespace {

constexpr std::size_t kMaxAnswerBytes = 16 * 1024;

struct Pipe {
    xen::UniqueFd read, write;
};

Pipe make_pipe() {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) {
        throw std::system_error(errno, std::generic_category(), "pipe2");
    }
    return {xen::UniqueFd(fds[0]), xen::UniqueFd(fds[1])};
}

KeystoreAnswer failure(std::string detail) {
    return {"error", nlohmann::json{{"outcome", "error"}, {"detail", std::move(detail)}}};
}

} // namespace

KeystoreAnswer KeystoreClient::run(std::string_view verb, const std::string& volume, const std::string& mapper_name,
                                   std::string_view pin_lines) const {
    std::vector<std::string> argv{options_.program};
    argv.insert(argv.end(), options_.extra_args.begin(), options_.extra_args.end());
    for (std::string a : {std::string("secure"), std::string("--json"), std::string("--state-dir"), options_.state_dir,
                          std::string("--volume"), volume, std::string("--name"), mapper_name,
                          std::string("--retry-limit"), std::to_string(options_.retry_limit), std::string(verb)}) {
        argv.push_back(std::move(a));
    }
    Pipe in = make_pipe();
    Pipe out = make_pipe();
    posix_spawn_file_actions_t actions;
    ::posix_spawn_file_actions_init(&actions);
    ::posix_spawn_file_actions_adddup2(&actions, in.read.get(), STDIN_FILENO);
    ::posix_spawn_file_actions_adddup2(&actions, out.write.get(), STDOUT_FILENO);
    ::posix_spawn_file_actions_addclosefrom_np(&actions, 3);
    std::vector<char*> args;
    for (auto& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    pid_t pid = -1;
    const int rc = ::posix_spawn(&pid, args[0], &actions, nullptr, args.data(), environ);
    ::posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) {
        return failure("cannot start " + options_.program + ": " + std::strerror(rc));
    }
    in.read = xen::UniqueFd();
    out.write = xen::UniqueFd();
    // The PIN fits the pipe's buffer (at most two 256-byte lines), so this write never blocks.
    std::size_t sent = 0;
    while (sent < pin_lines.size()) {
        const auto n = ::write(in.write.get(), pin_lines.data() + sent, pin_lines.size() - sent);
        if (n <= 0) break;
        sent += static_cast<std::size_t>(n);
    }
    in.write = xen::UniqueFd();

    std::string answer;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(options_.timeout_ms);
    bool timed_out = false;
    char buf[4096];
    for (;;) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count();
        if (left <= 0) {
            timed_out = true;
            break;
        }
        pollfd p{out.read.get(), POLLIN, 0};
        const int ready = ::poll(&p, 1, static_cast<int>(left));
        if (ready < 0 && errno == EINTR) continue;
        if (ready <= 0) {
            timed_out = ready == 0;
            break;
        }
        const auto n = ::read(out.read.get(), buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        answer.append(buf, static_cast<std::size_t>(n));
        if (answer.size() > kMaxAnswerBytes) break;
    }
    if (timed_out) ::kill(pid, SIGKILL);
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (timed_out) return failure("twofold-keystore did not finish in time");
    const auto end = answer.find_last_not_of('\n');
    const auto start = end == std::string::npos ? std::string::npos : answer.rfind('\n', end);
    const std::string line = end == std::string::npos ? "" : answer.substr(start == std::string::npos ? 0 : start + 1, end + 1 - (start == std::string::npos ? 0 : start + 1));
    auto doc = nlohmann::json::parse(line, nullptr, false);
    if (doc.is_discarded() || !doc.is_object()) {
        return failure("twofold-keystore gave no answer (exit status " + std::to_string(WEXITSTATUS(status)) + ")");
    }
    std::string outcome = doc.value("outcome", "");
    if (outcome.empty()) outcome = doc.contains("provisioned") ? "status" : "error";
    return {outcome, std::move(doc)};
}

} // namespace twofold::manager
