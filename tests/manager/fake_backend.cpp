// A stand-in backend process for the supervision tests and the benchmark: it speaks the focus
// link (twofold_focus) on --focus-fd and misbehaves as its arguments say.
//
//   --name NAME           name in the hello (default "display")
//   --holds a,b           holders in the hello (display, input, modem-audio; default display)
//   --ack-after-ms N      answer each focus order after N ms (default 0)
//   --refuse              refuse every focus order instead of acknowledging it
//   --refuse-persona P    refuse the orders naming persona P, acknowledge the others
//   --never-answer        read focus orders, answer none (a hung backend)
//   --no-hello            never say hello
//   --crash-after-hello   abort() right after the hello
//   --crash-once FILE     ... but only if FILE does not exist yet (it is created first)
//   --audit EVENT         send one audit event named EVENT after the hello (repeatable)
//   --audit-flood N:P:EV  then send N audit events EV for persona P, as fast as it can
//   --linger              ignore SIGTERM and EOF on the focus link (must be SIGKILLed)
//   --log FILE            append "focus PERSONA EPOCH T" per order received (PERSONA "nobody"
//                         for a route-to-nobody order), "ack EPOCH T" / "refuse EPOCH T" per
//                         answer sent and "start PID" at start; T is CLOCK_MONOTONIC in
//                         microseconds, one clock for every process, so several fake backends'
//                         logs can be merged into one timeline
//   --log-argv            log "argv ARG ARG ..." (everything after the program) and, for each
//                         open fd from 3 to 31, "fd N stream|seqpacket|other" at start
//   --peer-talk           on its peer links: an instance (--peer-fd N) sends "from-PERSONA"
//                         once, and every process logs "peer-recv WHO MESSAGE" per message
//                         received (WHO: "self" for an instance, the persona for a peer's
//                         --peer-fd PERSONA=N), and a peer answers each with "echo-MESSAGE"
//   --xs-read PATH        after the hello, read PATH through the proxied xenstore on
//                         --xenstore-fd and log "xs-read PATH value V|missing|errno N"
// It also accepts the contract's --user NAME and ignores it. An instance (--persona NAME:KIND)
// logs to FILE.NAME instead of FILE, so that each persona's instance has its own log.
#include <fcntl.h>
#include <poll.h>
#include <time.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "twofold/focus/focus_protocol.h"
#include "twofold/focus/line_splitter.h"
#include "twofold/xen/error.h"
#include "twofold/xenbus/proxied_xenstore.h"

namespace {

namespace focus = twofold::focus;

struct Args {
    std::string name = "display";
    std::vector<focus::Holder> holds{focus::Holder::Display};
    int ack_after_ms = 0;
    bool refuse = false;
    std::string refuse_persona;
    bool never_answer = false;
    bool no_hello = false;
    bool crash_after_hello = false;
    std::string crash_once;
    std::vector<std::string> audit_events;
    std::vector<std::string> audit_floods;
    bool linger = false;
    std::vector<std::string> raw_lines;       // sent as they are, after the hello
    std::vector<std::string> on_prompt_lines; // sent after answering a focus order with a prompt
    std::string log;
    int fd = -1;
    bool log_argv = false;
    bool peer_talk = false;
    std::vector<std::string> xs_reads;
    int xenstore_fd = -1;
    std::string persona; // an instance's, from --persona NAME:KIND
    std::vector<std::pair<std::string, int>> peers; // "self" (instance) or persona -> fd
    std::vector<std::string> argv;
    // The peer thread logs too: one line at a time.
    std::shared_ptr<std::mutex> log_mutex = std::make_shared<std::mutex>();
};

std::vector<focus::Holder> parse_holds(const std::string& list) {
    std::vector<focus::Holder> out;
    std::size_t start = 0;
    while (start <= list.size()) {
        const auto end = std::min(list.find(',', start), list.size());
        const std::string item = list.substr(start, end - start);
        if (item == "display") out.push_back(focus::Holder::Display);
        if (item == "input") out.push_back(focus::Holder::Input);
        if (item == "modem-audio") out.push_back(focus::Holder::ModemAudio);
        start = end + 1;
    }
    return out;
}

Args parse(int argc, char** argv) {
    Args a;
    for (int i = 1; i < argc; ++i) a.argv.emplace_back(argv[i]);
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        const auto next = [&]() -> std::string { return i + 1 < argc ? argv[++i] : std::string(); };
        if (arg == "--name") a.name = next();
        else if (arg == "--holds") a.holds = parse_holds(next());
        else if (arg == "--ack-after-ms") a.ack_after_ms = std::atoi(next().c_str());
        else if (arg == "--refuse") a.refuse = true;
        else if (arg == "--refuse-persona") a.refuse_persona = next();
        else if (arg == "--never-answer") a.never_answer = true;
        else if (arg == "--no-hello") a.no_hello = true;
        else if (arg == "--crash-after-hello") a.crash_after_hello = true;
        else if (arg == "--crash-once") a.crash_once = next();
        else if (arg == "--audit") a.audit_events.push_back(next());
        else if (arg == "--audit-flood") a.audit_floods.push_back(next());
        else if (arg == "--linger") a.linger = true;
        else if (arg == "--raw") a.raw_lines.push_back(next());
        else if (arg == "--on-prompt-send") a.on_prompt_lines.push_back(next());
        else if (arg == "--log") a.log = next();
        else if (arg == "--focus-fd") a.fd = std::atoi(next().c_str());
        else if (arg == "--user") next();
        else if (arg == "--log-argv") a.log_argv = true;
        else if (arg == "--peer-talk") a.peer_talk = true;
        else if (arg == "--xs-read") a.xs_reads.push_back(next());
        else if (arg == "--xenstore-fd") a.xenstore_fd = std::atoi(next().c_str());
        else if (arg == "--persona") {
            const std::string p = next();
            a.persona = p.substr(0, p.find(':'));
        } else if (arg == "--peer-fd") {
            const std::string v = next();
            const auto eq = v.find('=');
            if (eq == std::string::npos) a.peers.emplace_back("self", std::atoi(v.c_str()));
            else a.peers.emplace_back(v.substr(0, eq), std::atoi(v.substr(eq + 1).c_str()));
        }
    }
    if (!a.persona.empty() && !a.log.empty()) a.log += "." + a.persona;
    return a;
}

void send_line(int fd, const std::string& line) {
    const std::string out = line + "\n";
    for (std::size_t sent = 0; sent < out.size();) {
        const auto n = ::write(fd, out.data() + sent, out.size() - sent);
        if (n <= 0) std::_Exit(3);
        sent += static_cast<std::size_t>(n);
    }
}

void log_line(const Args& a, const std::string& line) {
    const std::scoped_lock lock(*a.log_mutex);
    if (!a.log.empty()) std::ofstream(a.log, std::ios::app) << line << '\n';
}

std::string socket_type(int fd) {
    int type = 0;
    socklen_t len = sizeof type;
    if (::getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) != 0) return "other";
    if (type == SOCK_STREAM) return "stream";
    if (type == SOCK_SEQPACKET) return "seqpacket";
    return "other";
}

void log_argv_and_fds(const Args& a) {
    std::string line = "argv";
    for (const auto& arg : a.argv) line += " " + arg;
    log_line(a, line);
    for (int fd = 3; fd < 32; ++fd) {
        if (::fcntl(fd, F_GETFD) != -1) log_line(a, "fd " + std::to_string(fd) + " " + socket_type(fd));
    }
}

// Runs for the process's life: the peer links' messages, logged and (by a peer) echoed.
void peer_talk(const Args& a) {
    for (const auto& [who, fd] : a.peers) {
        if (who == "self") {
            const std::string hello = "from-" + a.persona;
            if (::send(fd, hello.data(), hello.size(), MSG_NOSIGNAL) < 0) log_line(a, "peer-send-failed");
        }
    }
    std::vector<pollfd> fds;
    for (const auto& peer : a.peers) fds.push_back({peer.second, POLLIN, 0});
    for (;;) {
        if (::poll(fds.data(), fds.size(), -1) < 0) continue;
        for (std::size_t i = 0; i < fds.size(); ++i) {
            if ((fds[i].revents & POLLIN) == 0) continue;
            char buf[256];
            const auto n = ::recv(fds[i].fd, buf, sizeof buf, 0);
            if (n <= 0) continue;
            const std::string message(buf, static_cast<std::size_t>(n));
            log_line(a, "peer-recv " + a.peers[i].first + " " + message);
            if (a.peers[i].first != "self") {
                const std::string echo = "echo-" + message;
                (void)::send(fds[i].fd, echo.data(), echo.size(), MSG_NOSIGNAL);
            }
        }
    }
}

// Returns the store: the proxy takes a closed xenstore link for a broken backend.
std::unique_ptr<twofold::xenbus::ProxiedXenStore> xs_read(const Args& a) {
    if (a.xs_reads.empty()) return nullptr;
    auto store = std::make_unique<twofold::xenbus::ProxiedXenStore>(twofold::xen::UniqueFd(a.xenstore_fd));
    for (const auto& path : a.xs_reads) {
        try {
            const auto value = store->read(path);
            log_line(a, "xs-read " + path + (value ? " value " + *value : " missing"));
        } catch (const twofold::xen::XenError& e) {
            log_line(a, "xs-read " + path + " errno " + std::to_string(e.errno_value()));
        }
    }
    return store;
}

std::string now_us() {
    timespec ts{};
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    return std::to_string(static_cast<long long>(ts.tv_sec) * 1000000LL + ts.tv_nsec / 1000);
}

// "N:PERSONA:EVENT"
void flood(int fd, const std::string& spec) {
    const auto first = spec.find(':');
    const auto second = spec.find(':', first + 1);
    if (first == std::string::npos || second == std::string::npos) std::_Exit(2);
    const int count = std::atoi(spec.substr(0, first).c_str());
    const std::string persona = spec.substr(first + 1, second - first - 1);
    const std::string event = spec.substr(second + 1);
    for (int i = 0; i < count; ++i) {
        send_line(fd, focus::format(focus::ToManager{focus::AuditEvent{event, {{"persona", persona}, {"n", i}}}}));
    }
}

} // namespace

int main(int argc, char** argv) {
    const Args a = parse(argc, argv);
    if (a.fd < 0) return 2;
    if (a.linger) ::signal(SIGTERM, SIG_IGN);
    log_line(a, "start " + std::to_string(::getpid()));
    if (a.log_argv) log_argv_and_fds(a);
    if (a.peer_talk && !a.peers.empty()) std::thread([&a] { peer_talk(a); }).detach();
    if (!a.no_hello) send_line(a.fd, focus::format(focus::ToManager{focus::Hello{a.name, a.holds}}));
    const auto store = xs_read(a);
    if (a.crash_after_hello) {
        if (a.crash_once.empty() || ::access(a.crash_once.c_str(), F_OK) != 0) {
            if (!a.crash_once.empty()) std::ofstream(a.crash_once) << "crashed\n";
            std::abort();
        }
    }
    for (const auto& event : a.audit_events) {
        send_line(a.fd, focus::format(focus::ToManager{focus::AuditEvent{event, {{"persona", "secure"}, {"detail", "fake"}}}}));
    }
    for (const auto& spec : a.audit_floods) flood(a.fd, spec);
    for (const auto& line : a.raw_lines) send_line(a.fd, line);
    focus::LineSplitter splitter(
        focus::kMaxLineBytes,
        [&](std::string_view line) {
            const auto parsed = focus::parse_to_backend(line);
            if (!std::holds_alternative<focus::ToBackend>(parsed)) return;
            const auto* focus_order = std::get_if<focus::Focus>(&std::get<focus::ToBackend>(parsed));
            if (focus_order == nullptr) return; // a prompt redraw: no answer
            const auto order = *focus_order;
            log_line(a, "focus " + order.persona.value_or("nobody") + " " + std::to_string(order.epoch) + " " + now_us() +
                            (order.prompt ? " prompt" : ""));
            if (a.never_answer) return;
            std::this_thread::sleep_for(std::chrono::milliseconds(a.ack_after_ms));
            if (a.refuse || (!a.refuse_persona.empty() && order.persona == a.refuse_persona)) {
                log_line(a, "refuse " + std::to_string(order.epoch) + " " + now_us());
                send_line(a.fd, focus::format(focus::ToManager{focus::Refuse{order.epoch, "fake backend refuses"}}));
            } else {
                // Logged before it is sent: the manager cannot act on an ack before this line.
                log_line(a, "ack " + std::to_string(order.epoch) + " " + now_us());
                send_line(a.fd, focus::format(focus::ToManager{focus::Ack{order.epoch}}));
            }
            if (order.prompt) {
                for (const auto& extra : a.on_prompt_lines) send_line(a.fd, extra);
            }
        },
        [](std::size_t) {});
    char buf[4096];
    for (;;) {
        const auto n = ::read(a.fd, buf, sizeof buf);
        if (n <= 0) {
            if (a.linger) {
                ::pause();
                continue;
            }
            return 0; // EOF: the manager is gone (the contract)
        }
        splitter.feed(std::string_view(buf, static_cast<std::size_t>(n)));
    }
}
