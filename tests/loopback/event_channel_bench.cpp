// Round trips between two threads through loopback event channels, beside the same ping-pong
// over two bare eventfds (the floor any eventfd-based notification can reach), measured in
// the same run. Prints the ratio.
#include <benchmark/benchmark.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <map>
#include <string>
#include <thread>

#include "twofold/loopback/hypervisor.h"

namespace {

using namespace twofold;

void wait_readable(int fd) {
    pollfd pfd{fd, POLLIN, 0};
    ::poll(&pfd, 1, -1);
}

void signal(int fd) {
    const std::uint64_t one = 1;
    [[maybe_unused]] const auto written = ::write(fd, &one, sizeof one);
}

void drain(int fd) {
    std::uint64_t value = 0;
    [[maybe_unused]] const auto got = ::read(fd, &value, sizeof value);
}

void BM_RawEventfdRoundTrip(benchmark::State& state) {
    const int ping = ::eventfd(0, EFD_CLOEXEC);
    const int pong = ::eventfd(0, EFD_CLOEXEC);
    std::atomic<bool> stop{false};
    std::thread peer([&] {
        for (;;) {
            wait_readable(ping);
            drain(ping);
            if (stop.load()) {
                return;
            }
            signal(pong);
        }
    });
    for (auto _ : state) {
        signal(ping);
        wait_readable(pong);
        drain(pong);
    }
    stop.store(true);
    signal(ping);
    peer.join();
    ::close(ping);
    ::close(pong);
    state.SetItemsProcessed(state.iterations());
}

xen::Port take(xen::EventChannel& channel) {
    for (;;) {
        if (auto port = channel.pending()) {
            channel.unmask(*port);
            return *port;
        }
        wait_readable(channel.fd());
    }
}

void BM_LoopbackEventChannelRoundTrip(benchmark::State& state) {
    loopback::Hypervisor hv;
    const auto guest = hv.create_domain("bench");
    auto backend = hv.platform(xen::kDom0)->open_event_channel();
    auto frontend = hv.platform(guest)->open_event_channel();
    const xen::Port remote = frontend->bind_unbound(xen::kDom0);
    const xen::Port local = backend->bind_interdomain(guest, remote);
    std::atomic<bool> stop{false};
    std::thread peer([&] {
        for (;;) {
            take(*frontend);
            if (stop.load()) {
                return;
            }
            frontend->notify(remote);
        }
    });
    for (auto _ : state) {
        backend->notify(local);
        take(*backend);
    }
    stop.store(true);
    backend->notify(local);
    peer.join();
    state.SetItemsProcessed(state.iterations());
}

BENCHMARK(BM_RawEventfdRoundTrip)->UseRealTime()->MinTime(1.0);
BENCHMARK(BM_LoopbackEventChannelRoundTrip)->UseRealTime()->MinTime(1.0);

// Keeps each benchmark's time per round trip so main() can print the ratio.
class RatioReporter : public benchmark::ConsoleReporter {
public:
    void ReportRuns(const std::vector<Run>& runs) override {
        ConsoleReporter::ReportRuns(runs);
        for (const auto& run : runs) {
            seconds_per_op[run.benchmark_name()] = run.GetAdjustedRealTime();
        }
    }
    [[nodiscard]] double time_of(const std::string& prefix) const {
        for (const auto& [name, seconds] : seconds_per_op) {
            if (name.starts_with(prefix)) {
                return seconds;
            }
        }
        return 0;
    }

private:
    std::map<std::string, double> seconds_per_op;
};

} // namespace

int main(int argc, char** argv) {
    benchmark::Initialize(&argc, argv);
    RatioReporter reporter;
    benchmark::RunSpecifiedBenchmarks(&reporter);
    const double raw = reporter.time_of("BM_RawEventfdRoundTrip");
    const double loop = reporter.time_of("BM_LoopbackEventChannelRoundTrip");
    if (raw > 0 && loop > 0) {
        std::printf("loopback event channel round trip: %.2fx the raw eventfd round trip\n", loop / raw);
    }
    benchmark::Shutdown();
    return 0;
}
