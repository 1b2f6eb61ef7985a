// Key-to-commit: from the hardware key's release entering the gesture recogniser to
// SwitchCommitted, with three fake backend processes (display, input, modem) acknowledging
// over real socketpairs, on the lab policy with libvirt's test driver and an audit log on
// tmpfs (fdatasync per record, as the lab policy says). Baseline, same run: one focus/ack
// round trip over a socketpair to one fake backend process, no manager in between.
// Also the resident memory (VmRSS) of a real twofold-manager process started with the lab
// policy and the three backends, beside a process that only loads libvirt and opens the same URI.
#include <benchmark/benchmark.h>

#include <libvirt/virterror.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <iomanip>
#include <iostream>
#include <map>
#include <fstream>
#include <sstream>
#include <thread>

#include "twofold/audit/sink.h"
#include "twofold/focus/focus_protocol.h"
#include "twofold/manager/child_process.h"
#include "twofold/manager/key_gesture.h"
#include "twofold/manager/libvirt.h"
#include "twofold/manager/manager.h"
#include "twofold/policy/checker.h"

namespace {

namespace asio = boost::asio;
namespace mgr = twofold::manager;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

void quiet(void*, virErrorPtr) {}

std::string read_file(const std::filesystem::path& p) {
    std::ifstream in(p);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

std::string replace_all(std::string text, const std::string& from, const std::string& to) {
    for (auto pos = text.find(from); pos != std::string::npos; pos = text.find(from, pos + to.size())) {
        text.replace(pos, from.size(), to);
    }
    return text;
}

// tmpfs: the audit's fdatasync and the foreground file cost what they cost on the board's /run.
std::filesystem::path scratch(const std::string& what) {
    auto dir = std::filesystem::path("/dev/shm") / ("twofold-bench-" + std::to_string(::getpid()) + "-" + what);
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    return dir;
}

// The lab policy with names unique to this run and its files under `dir`.
std::string lab_policy_text(const std::filesystem::path& dir, const std::string& tag) {
    std::string text = read_file(std::string(TWOFOLD_SOURCE_DIR) + "/policy/personas.toml");
    text = replace_all(text, "name = \"personal\"", "name = \"" + tag + "-personal\"");
    text = replace_all(text, "name = \"secure\"", "name = \"" + tag + "-secure\"");
    text = replace_all(text, "default_foreground = \"personal\"", "default_foreground = \"" + tag + "-personal\"");
    text = replace_all(text, "to = \"secure\"", "to = \"" + tag + "-secure\"");
    text = replace_all(text, "/var/log/twofold/audit.log", (dir / "audit" / "audit.log").string());
    text = replace_all(text, "/etc/twofold/audit-signing-key.pem", (dir / "signing-key.pem").string());
    return text;
}

std::vector<mgr::BackendConfig> fake_backends() {
    std::vector<mgr::BackendConfig> out;
    for (const auto& [name, holder] : {std::pair{"display", "display"}, {"input", "input"}, {"modem", "modem-audio"}}) {
        mgr::BackendConfig c;
        c.name = name;
        c.command = {TWOFOLD_FAKE_BACKEND, "--name", name, "--holds", holder};
        c.user = std::string("twofold-") + name;
        out.push_back(c);
    }
    return out;
}

struct Percentiles {
    double p50_us = 0;
    double p99_us = 0;
};

Percentiles percentiles(std::vector<double> samples) {
    if (samples.empty()) return {};
    std::sort(samples.begin(), samples.end());
    const auto at = [&](double q) { return samples[std::min(samples.size() - 1, static_cast<std::size_t>(q * static_cast<double>(samples.size())))]; };
    return {at(0.50) * 1e6, at(0.99) * 1e6};
}

Percentiles g_baseline; // measured first in the same run

void write_line(int fd, const std::string& line) {
    for (std::size_t sent = 0; sent < line.size();) {
        const auto n = ::write(fd, line.data() + sent, line.size() - sent);
        if (n <= 0) throw std::runtime_error("write to fake backend failed");
        sent += static_cast<std::size_t>(n);
    }
}

std::string read_line(int fd, std::string& pending) {
    char buf[512];
    for (;;) {
        if (const auto nl = pending.find('\n'); nl != std::string::npos) {
            std::string line = pending.substr(0, nl);
            pending.erase(0, nl + 1);
            return line;
        }
        const auto n = ::read(fd, buf, sizeof buf);
        if (n <= 0) throw std::runtime_error("fake backend closed the link");
        pending.append(buf, static_cast<std::size_t>(n));
    }
}

void BM_FocusAckRoundTrip(benchmark::State& state) {
    auto child = mgr::spawn_with_focus_link({TWOFOLD_FAKE_BACKEND, "--name", "display", "--focus-fd", "3"});
    std::string pending;
    read_line(child.link.get(), pending); // hello
    std::vector<double> samples;
    std::uint64_t epoch = 0;
    for (auto _ : state) {
        const auto line = twofold::focus::format(twofold::focus::ToBackend{twofold::focus::Focus{"secure", ++epoch}}) + "\n";
        const auto t0 = Clock::now();
        write_line(child.link.get(), line);
        const auto ack = read_line(child.link.get(), pending);
        const std::chrono::duration<double> took = Clock::now() - t0;
        benchmark::DoNotOptimize(ack);
        samples.push_back(took.count());
        state.SetIterationTime(took.count());
    }
    child.link.reset(); // EOF: the fake exits
    int status = 0;
    ::waitpid(child.pid, &status, 0);
    g_baseline = percentiles(samples);
    state.counters["p50_us"] = g_baseline.p50_us;
    state.counters["p99_us"] = g_baseline.p99_us;
}
BENCHMARK(BM_FocusAckRoundTrip)->UseManualTime()->Iterations(2000)->Unit(benchmark::kMicrosecond);

// A "Field:   N kB" line of /proc/<pid>/<file>, in MiB.
double status_mib(pid_t pid, const std::string& field, const std::string& file = "status") {
    std::ifstream in("/proc/" + std::to_string(pid) + "/" + file);
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind(field + ":", 0) == 0) {
            return std::stod(line.substr(field.size() + 1)) / 1024.0; // kB
        }
    }
    return -1;
}

void BM_KeyToCommit(benchmark::State& state) {
    virSetErrorFunc(nullptr, quiet);
    const auto dir = scratch("switch");
    const std::string tag = "bench" + std::to_string(::getpid() % 100000);
    auto loaded = twofold::policy::load_and_check_policy(lab_policy_text(dir, tag), "personas.toml", twofold::policy::CheckOptions{false});
    if (!loaded.policy) {
        state.SkipWithError("lab policy did not load");
        return;
    }
    twofold::audit::WriterConfig audit_config;
    audit_config.sync = twofold::audit::SyncPolicy::every_record; // the lab policy's fsync = "record"
    auto writer = twofold::audit::Writer::open(std::make_unique<twofold::audit::PosixLogStore>(dir / "audit"),
                                               twofold::audit::SigningKey::generate(), audit_config);
    mgr::ManagerOptions options;
    options.libvirt_uri = "test:///default";
    options.flavor = mgr::DomainFlavor::test_driver();
    options.control_socket = dir / "control.sock";
    options.state_dir = dir / "state";
    options.use_hardware_key = false; // the recogniser is fed below, as HardwareKey feeds it
    options.supervise_every = std::chrono::hours(1);
    options.backends = fake_backends();
    options.block_device_present = [](const std::string&) { return true; }; // the secure volume is open
    asio::io_context io;
    mgr::Manager manager(io, *loaded.policy, options, std::make_unique<mgr::LibvirtConnection>(options.libvirt_uri), nullptr,
                         std::move(writer));
    manager.start();
    // Wait, on this (the manager's only) thread, until the three holders are registered.
    const auto ready_by = Clock::now() + 10s;
    auto all_running = [&] {
        for (const auto& b : manager.backends().status()) {
            if (b["state"] != "running") return false;
        }
        return true;
    };
    while (!all_running() && Clock::now() < ready_by) {
        io.run_for(10ms);
    }
    if (!all_running()) {
        state.SkipWithError("fake backends did not say hello");
        return;
    }
    mgr::KeyGestureRecognizer recognizer(mgr::Gesture::Press, mgr::GestureTiming{});
    std::vector<double> samples;
    auto key_time = Clock::now();
    for (auto _ : state) {
        // Synthetic key timestamps (a 100 ms press); the latency is wall time from the release.
        key_time += 1s;
        recognizer.on_key(true, key_time);
        bool settled = false;
        bool committed = false;
        const auto t0 = Clock::now();
        const auto gesture = recognizer.on_key(false, key_time + 100ms);
        if (gesture == mgr::Gesture::Press) {
            manager.hardware_key_switch([&](const mgr::control::Reply& r) {
                settled = true;
                committed = r.ok;
            });
        }
        while (!settled) {
            io.run_one();
        }
        const std::chrono::duration<double> took = Clock::now() - t0;
        if (!committed) {
            state.SkipWithError("a switch did not commit");
            break;
        }
        samples.push_back(took.count());
        state.SetIterationTime(took.count());
    }
    const auto p = percentiles(samples);
    state.counters["p50_us"] = p.p50_us;
    state.counters["p99_us"] = p.p99_us;
    state.counters["p50_vs_roundtrip"] = g_baseline.p50_us > 0 ? p.p50_us / g_baseline.p50_us : 0;
    state.counters["p99_vs_roundtrip"] = g_baseline.p99_us > 0 ? p.p99_us / g_baseline.p99_us : 0;
    std::filesystem::remove_all(dir);
}
BENCHMARK(BM_KeyToCommit)->UseManualTime()->Iterations(2000)->Unit(benchmark::kMicrosecond);

struct Memory {
    double rss = -1;  // VmRSS: every page mapped, shared library pages included
    double anon = -1; // RssAnon: private to the process
    double pss = -1;  // shared pages divided among the processes mapping them
    double uss = -1;  // pages no other process maps: what ending the process would free
};

Memory memory_of(pid_t pid) {
    return {status_mib(pid, "VmRSS"), status_mib(pid, "RssAnon"), status_mib(pid, "Pss", "smaps_rollup"),
            status_mib(pid, "Private_Clean", "smaps_rollup") + status_mib(pid, "Private_Dirty", "smaps_rollup")};
}

// Rss per mapped file (libraries, the binary) or kind ([heap], [anon], [stack]) from
// /proc/<pid>/smaps, largest first: what the VmRSS is made of.
std::vector<std::pair<double, std::string>> rss_by_mapping(pid_t pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/smaps");
    std::map<std::string, double> kib;
    std::string line;
    std::string name;
    while (std::getline(in, line)) {
        std::istringstream fields(line);
        std::string first;
        fields >> first;
        if (first.find('-') != std::string::npos && first.back() != ':') { // a mapping's header
            std::string perms, offset, dev, inode, path;
            fields >> perms >> offset >> dev >> inode >> path;
            name = path.empty() ? "[anon]" : std::filesystem::path(path).filename().string();
        } else if (first == "Rss:") {
            double v = 0;
            fields >> v;
            kib[name] += v;
        }
    }
    std::vector<std::pair<double, std::string>> out;
    for (const auto& [n, v] : kib) out.emplace_back(v / 1024.0, n);
    std::sort(out.rbegin(), out.rend());
    return out;
}

// The libvirt URI the manager and the baseline use. Default: the test driver inside the process.
// On the board the manager talks to libvirtd (xen:///system, libvirt's remote driver): set
// TWOFOLD_BENCH_LIBVIRT_URI=test+unix:///default?socket=... to measure that shape (docs/benchmarks.md).
std::string bench_libvirt_uri() {
    const char* uri = std::getenv("TWOFOLD_BENCH_LIBVIRT_URI");
    return uri != nullptr && *uri != '\0' ? uri : "test:///default";
}

// Starts argv, waits until it has settled, reads its memory, stops it with SIGTERM.
template <typename Read>
auto measure_process(const std::vector<std::string>& argv, Read read) {
    const auto child = mgr::spawn_with_focus_link(argv);
    // Settled: the manager started, reconciled, spawned its three backends and they registered.
    std::this_thread::sleep_for(2s);
    auto figures = read(child.pid);
    ::kill(child.pid, SIGTERM);
    int status = 0;
    ::waitpid(child.pid, &status, 0);
    return figures;
}

// The 16 largest mappings of one process and the rest, on stdout.
void print_mappings(const std::string& process, const std::string& uri, const std::vector<std::pair<double, std::string>>& mappings) {
    std::ostringstream top;
    top << process << " Rss by mapping (MiB), libvirt " << uri << ":";
    double rest = 0;
    for (std::size_t i = 0; i < mappings.size(); ++i) {
        if (i < 16) {
            top << (i % 4 == 0 ? "\n   " : "") << ' ' << mappings[i].second << ' ' << std::fixed << std::setprecision(2) << mappings[i].first;
        } else {
            rest += mappings[i].first;
        }
    }
    top << "\n    " << (mappings.size() > 16 ? mappings.size() - 16 : 0) << " more mappings " << rest << '\n';
    std::cout << top.str();
}

// The manager's child running `program` (its comm, at most 15 characters), or -1.
pid_t child_named(pid_t parent, const std::string& program) {
    const std::string comm = program.substr(0, 15);
    for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
        const auto name = entry.path().filename().string();
        if (name.find_first_not_of("0123456789") != std::string::npos) continue;
        std::ifstream in(entry.path() / "stat");
        std::string line;
        std::getline(in, line);
        // pid (comm) state ppid ...: comm may hold spaces, so split after the last ')'.
        const auto open = line.find('(');
        const auto close = line.rfind(')');
        if (open == std::string::npos || close == std::string::npos) continue;
        std::istringstream rest(line.substr(close + 1));
        std::string st;
        pid_t ppid = -1;
        rest >> st >> ppid;
        if (ppid == parent && line.substr(open + 1, close - open - 1) == comm) return std::stoi(name);
    }
    return -1;
}

// The real daemon: twofold-manager started with the lab policy (libvirt test driver, no Xen) and
// the three fake backends, against its baseline in the same run: a process that only loads
// libvirt and opens the same URI (libvirt_floor.cpp).
void BM_ManagerResidentMemory(benchmark::State& state) {
    const auto dir = scratch("rss");
    const std::string tag = "rss" + std::to_string(::getpid() % 100000);
    const std::string uri = bench_libvirt_uri();
    std::ofstream(dir / "personas.toml") << lab_policy_text(dir, tag);
    {
        std::ofstream b(dir / "backends.toml");
        b << "version = 1\n";
        for (const auto& c : fake_backends()) {
            b << "[[backend]]\nname = \"" << c.name << "\"\ncommand = [";
            for (std::size_t i = 0; i < c.command.size(); ++i) b << (i ? ", " : "") << '"' << c.command[i] << '"';
            b << "]\n";
        }
    }
    Memory manager;
    Memory broker;
    Memory floor;
    std::vector<std::pair<double, std::string>> mappings;
    std::vector<std::pair<double, std::string>> broker_mappings;
    for (auto _ : state) {
        floor = measure_process({TWOFOLD_LIBVIRT_FLOOR, uri}, memory_of);
        manager = measure_process({TWOFOLD_MANAGER_BIN, "--policy", (dir / "personas.toml").string(), "--backends",
                                   (dir / "backends.toml").string(), "--libvirt", uri, "--libvirt-test-flavor", "--no-xen",
                                   "--no-hardware-key", "--control-socket", (dir / "c.sock").string(), "--state-dir",
                                   (dir / "state").string(), "--libvirt-broker", TWOFOLD_LIBVIRT_BROKER,
                                   // The board's broker user does not exist on a host; any unprivileged one will do.
                                   "--libvirt-broker-user", ::geteuid() == 0 ? "nobody" : ""},
                                  [&](pid_t pid) {
                                      mappings = rss_by_mapping(pid);
                                      const pid_t b = child_named(pid, "twofold-libvirt-broker");
                                      broker = b > 0 ? memory_of(b) : Memory{};
                                      if (b > 0) broker_mappings = rss_by_mapping(b);
                                      return memory_of(pid);
                                  });
        if (broker.rss < 0) {
            state.SkipWithError("no twofold-libvirt-broker child of the manager found");
            break;
        }
        state.SetIterationTime(1);
    }
    state.counters["twofold_manager_VmRSS_MiB"] = manager.rss;
    state.counters["of_which_RssAnon_MiB"] = manager.anon;
    state.counters["Pss_MiB"] = manager.pss;
    state.counters["broker_VmRSS_MiB"] = broker.rss;
    state.counters["broker_RssAnon_MiB"] = broker.anon;
    state.counters["broker_Pss_MiB"] = broker.pss;
    state.counters["manager_plus_broker_VmRSS_MiB"] = manager.rss + broker.rss;
    state.counters["manager_plus_broker_Pss_MiB"] = manager.pss + broker.pss;
    state.counters["Uss_MiB"] = manager.uss;
    state.counters["broker_Uss_MiB"] = broker.uss;
    state.counters["libvirt_floor_Uss_MiB"] = floor.uss;
    state.counters["libvirt_floor_VmRSS_MiB"] = floor.rss;
    state.counters["libvirt_floor_RssAnon_MiB"] = floor.anon;
    // The old single process was the floor plus the manager's own part; the sum against the
    // floor shows what the split costs in total.
    state.counters["sum_above_floor_MiB"] = manager.rss + broker.rss - floor.rss;
    state.counters["broker_vs_floor"] = floor.rss > 0 ? broker.rss / floor.rss : 0;
    state.counters["goal_MiB"] = 16;
    state.SetLabel(uri);
    print_mappings("twofold-manager", uri, mappings);
    print_mappings("twofold-libvirt-broker", uri, broker_mappings);
    std::filesystem::remove_all(dir);
}
BENCHMARK(BM_ManagerResidentMemory)->UseManualTime()->Iterations(1)->Unit(benchmark::kMillisecond);

} // namespace

BENCHMARK_MAIN();
