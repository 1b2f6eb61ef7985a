// twofold-libvirt-broker: twofold-manager's libvirt client in its own confined process. It
// opens the libvirt URI it is given, then answers the manager's requests on the socketpair it
// inherits (fd 3), one at a time (include/twofold/libvirt_broker/protocol.h). It exits when the
// manager closes the link, on a request line too long to be in step, and when libvirtd drops
// the connection (the manager starts a new broker on its next call).
#include <fcntl.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <iostream>
#include <string>

#include <CLI/CLI.hpp>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <spdlog/spdlog.h>

#include "twofold/confine/confine.h"
#include "twofold/libvirt_broker/confinement.h"
#include "twofold/libvirt_broker/protocol.h"
#include "twofold/libvirt_broker/server.h"
#include "twofold/manager/libvirt.h"

namespace {

namespace asio = boost::asio;
namespace lb = twofold::libvirt_broker;

constexpr int kExitOk = 0;
constexpr int kExitUsage = 2;
constexpr int kExitLibvirt = 3;   // cannot connect, or libvirtd dropped the connection
constexpr int kExitConfine = 4;
constexpr int kExitProtocol = 5;  // the manager sent a line that cannot be in step

struct Options {
    std::string uri;
    int link_fd = 3;
    std::string user;  // empty: stay as started (host tests)
    bool no_confine = false;
    twofold::confine::SeccompMode mode = twofold::confine::SeccompMode::Kill;
};

// Serves one request at a time: the manager waits for each reply before it sends the next.
class Session {
public:
    Session(asio::io_context& io, int fd, twofold::manager::LibvirtConnection& libvirt)
        : link_(io, fd), buffer_(lb::kMaxLineBytes + 1), libvirt_(libvirt) {}

    void read_next() {
        asio::async_read_until(link_, buffer_, '\n', [this](const boost::system::error_code& ec, std::size_t n) {
            if (ec == asio::error::eof) {
                spdlog::info("libvirt broker: the manager closed the link; exiting");
                return;
            }
            if (ec == asio::error::not_found) {
                // No newline within the limit: the rest of the stream cannot be framed.
                spdlog::error("libvirt broker: request line exceeds {} bytes; exiting", lb::kMaxLineBytes);
                reply_then(lb::encode_error(std::nullopt, {lb::ErrorKind::Request, "request line too long"}), kExitProtocol);
                return;
            }
            if (ec) {
                spdlog::error("libvirt broker: reading the link: {}", ec.message());
                exit_code_ = kExitProtocol;
                return;
            }
            std::string line(asio::buffers_begin(buffer_.data()), asio::buffers_begin(buffer_.data()) + static_cast<std::ptrdiff_t>(n - 1));
            buffer_.consume(n);
            const std::string reply = lb::serve(libvirt_, line);
            // A dead connection answers every later call with the same error: a new broker
            // (started by the manager's next call) reconnects instead.
            reply_then(reply, libvirt_.alive() ? -1 : kExitLibvirt);
        });
    }

    [[nodiscard]] int exit_code() const noexcept { return exit_code_; }

private:
    // Writes the reply, then reads the next request, or stops with `exit_code` (>= 0).
    void reply_then(std::string reply, int exit_code) {
        out_ = std::move(reply);
        out_ += '\n';
        asio::async_write(link_, asio::buffer(out_), [this, exit_code](const boost::system::error_code& ec, std::size_t) {
            if (ec) {
                spdlog::error("libvirt broker: writing the reply: {}", ec.message());
                exit_code_ = kExitProtocol;
                return;
            }
            if (exit_code >= 0) {
                if (exit_code == kExitLibvirt) {
                    spdlog::error("libvirt broker: the libvirt connection is closed; exiting");
                }
                exit_code_ = exit_code;
                return;
            }
            read_next();
        });
    }

    asio::posix::stream_descriptor link_;
    asio::streambuf buffer_;
    std::string out_;
    twofold::manager::LibvirtConnection& libvirt_;
    int exit_code_ = kExitOk;
};

// libvirt formats a system error (errno) with glib's g_strerror, whose first use reads the
// charset alias table and iconv's module cache from files. Have it do so now, before the filter
// forbids open: otherwise a connection libvirtd drops (EPIPE) gets the broker killed by seccomp
// instead of answered. A connection to a socket that does not exist is such an error; it starts
// nothing (no daemon autostart for a non-session URI with an explicit socket).
void warm_up_error_formatting() {
    if (virConnectPtr c = virConnectOpen("test+unix:///default?socket=/nonexistent/twofold-libvirt-broker-warm-up")) {
        virConnectClose(c);
    }
    virResetLastError();
}

int run(const Options& options) {
    if (::fcntl(options.link_fd, F_GETFD) < 0) {
        spdlog::critical("libvirt broker: no link on fd {} (started by twofold-manager?)", options.link_fd);
        return kExitUsage;
    }
    // A write to a closed peer (libvirtd gone, the manager gone) must fail with EPIPE, not kill
    // the broker: the first becomes an error reply and a clean exit, the second an exit.
    std::signal(SIGPIPE, SIG_IGN);
    if (!options.no_confine) {
        ::tzset(); // before seccomp: the first log timestamp would open the zone file
        if (options.user.empty()) {
            spdlog::warn("libvirt broker: no --user: keeping uid {}", ::geteuid());
        } else if (::geteuid() != 0) {
            spdlog::warn("libvirt broker: not root: cannot drop to {}; keeping uid {}", options.user, ::geteuid());
        } else {
            // Before connecting, so libvirtd sees (and its socket permissions admit) only this user.
            twofold::confine::drop_privileges(options.user);
        }
    }
    // libvirt prints every error to stderr by default; each one already travels to the
    // manager in its reply (which logs what matters), so the broker's log stays quiet.
    virSetErrorFunc(nullptr, [](void*, virErrorPtr) {});
    warm_up_error_formatting();
    std::unique_ptr<twofold::manager::LibvirtConnection> libvirt;
    try {
        libvirt = std::make_unique<twofold::manager::LibvirtConnection>(options.uri);
    } catch (const twofold::manager::LibvirtError& e) {
        spdlog::critical("libvirt broker: {}", e.what());
        return kExitLibvirt;
    }
    // Also the first log line: spdlog's sink probes the terminal (ioctl TCGETS) once, before
    // the filter would forbid it.
    spdlog::info("libvirt broker: connected to {} as uid {}", options.uri, ::geteuid());
    asio::io_context io;
    Session session(io, options.link_fd, *libvirt);
    if (!options.no_confine) {
        const auto report = twofold::confine::install_seccomp(lb::broker_allowlist(), options.mode);
        spdlog::info("libvirt broker: confined (seccomp {}, {} syscalls)", twofold::confine::to_string(options.mode),
                     report.installed);
    } else {
        spdlog::warn("libvirt broker: running unconfined (--no-confine)");
    }
    session.read_next();
    io.run();
    return session.exit_code();
}

} // namespace

int main(int argc, char** argv) {
    CLI::App app{"twofold-libvirt-broker: twofold-manager's libvirt client, confined (started by the manager)",
                 "twofold-libvirt-broker"};
    Options options;
    app.add_option("--libvirt", options.uri, "libvirt connection URI")->required();
    app.add_option("--link-fd", options.link_fd, "the manager's socketpair end")->capture_default_str()->check(CLI::Range(3, 1023));
    app.add_option("--user", options.user, "drop to this user before connecting (when started as root)");
    app.add_flag("--no-confine", options.no_confine, "no privilege drop, no seccomp (debugging)");
    app.add_option_function<std::string>(
           "--seccomp",
           [&options](const std::string& text) {
               const auto mode = twofold::confine::parse_seccomp_mode(text);
               if (!mode) {
                   throw CLI::ValidationError("--seccomp", "expected kill or log");
               }
               options.mode = *mode;
           },
           "seccomp default action: kill (production) or log (building the allowlist)")
        ->default_str("kill");
    app.footer("Exit codes: 0 the manager closed the link, 2 usage, 3 libvirt connection failed or lost,\n"
               "4 confinement failed, 5 protocol (a request line too long, a broken link).");
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e) == 0 ? kExitOk : kExitUsage;
    }
    int code = kExitOk;
    try {
        code = run(options); // its connection and link are closed on return
    } catch (const twofold::confine::ConfineError& e) {
        spdlog::critical("libvirt broker: cannot confine: {}", e.what());
        code = kExitConfine;
    }
    if (options.no_confine) {
        return code; // unfiltered: exit-time handlers run, so LeakSanitizer checks the tests' brokers
    }
    // No exit-time handlers under the filter: what libraries and sanitizer runtimes run at exit
    // (LeakSanitizer's check needs clone and ptrace) would get the broker killed by SIGSYS
    // instead of exiting with its status.
    std::fflush(nullptr);
    std::_Exit(code);
}
