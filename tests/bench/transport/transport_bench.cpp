// Request/response round trips and bytes per second through the loopback transport (ring
// page granted by a simulated guest and mapped by dom0 through twofold::loopback::Hypervisor,
// notifications through its event channels), beside a minimal single-producer/single-
// consumer shared-memory ring pair carrying the same payload between the same two threads.
//
// Both transports block on an eventfd when idle and only signal a peer that may be asleep
// (the loopback through ring.h's req_event/rsp_event hold-off, the raw ring through a
// "sleeping" flag), so the comparison is like for like: what the hardened ring and the
// simulated Xen layer cost on top of the practical limit.
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <map>
#include <memory>
#include <new>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <benchmark/benchmark.h>

#include "twofold/loopback/hypervisor.h"
#include "twofold/rings/back_ring.h"
#include "twofold/rings/front_ring.h"

namespace {

using twofold::rings::RingFault;

constexpr std::size_t kPayload = 48;
constexpr std::size_t kBudget = 32;          // backend work per wake-up
constexpr std::size_t kStreamBatch = 256;    // requests per iteration in the streaming case
constexpr int kIdlePollMs = 50;

struct BenchRequest {
    std::uint64_t id;
    std::array<std::uint8_t, kPayload> payload;
};
struct BenchResponse {
    std::uint64_t id;
    std::uint32_t sum;
    std::int32_t status;
};

// The same backend work in both transports: read every payload byte of the copy.
BenchResponse answer(const BenchRequest& req) noexcept {
    BenchResponse rsp{};
    rsp.id = req.id;
    for (const auto b : req.payload) {
        rsp.sum += b;
    }
    return rsp;
}

BenchRequest make_request(std::uint64_t id) noexcept {
    BenchRequest req{};
    req.id = id;
    for (std::size_t i = 0; i < kPayload; ++i) {
        req.payload[i] = static_cast<std::uint8_t>(id + i);
    }
    return req;
}

void wait_readable(int fd) {
    pollfd p{fd, POLLIN, 0};
    (void)::poll(&p, 1, kIdlePollMs);
}

// --- loopback: the real ring code over the simulated Xen machine ---------------------------

class LoopbackLink {
public:
    using Front = twofold::rings::FrontRing<BenchRequest, BenchResponse>;
    using Back = twofold::rings::BackRing<BenchRequest, BenchResponse>;

    LoopbackLink()
        : guest_(hv_.create_domain("bench-guest")),
          gfns_(hv_.allocate_pages(guest_, 1)),
          front_view_(hv_.frontend_view(guest_, gfns_[0])),
          ref_(hv_.grant_access(guest_, gfns_[0], twofold::xen::kDom0, twofold::xen::Access::ReadWrite)),
          dom0_(hv_.platform(twofold::xen::kDom0)),
          guest_platform_(hv_.platform(guest_)),
          mapper_(dom0_->open_grant_mapper()),
          back_view_(mapper_->map(guest_, std::span{&ref_, 1}, twofold::xen::Access::ReadWrite)),
          front_events_(guest_platform_->open_event_channel()),
          back_events_(dom0_->open_event_channel()),
          front_port_(front_events_->bind_unbound(twofold::xen::kDom0)),
          back_port_(back_events_->bind_interdomain(guest_, front_port_)),
          front_(front_view_.bytes()), // the frontend initialises the shared ring first
          back_(back_view_.bytes()),
          backend_([this] { serve(); }) {}

    ~LoopbackLink() {
        stop_ = true;
        front_events_->notify(front_port_);
        backend_.join();
        back_events_->unbind(back_port_);
        front_events_->unbind(front_port_);
        back_view_.reset();
        (void)hv_.end_access(guest_, ref_);
    }
    LoopbackLink(const LoopbackLink&) = delete;
    LoopbackLink& operator=(const LoopbackLink&) = delete;

    bool put(const BenchRequest& req) noexcept { return front_.put_request(req); }
    void publish() {
        if (front_.push_requests()) {
            front_events_->notify(front_port_);
        }
    }
    template <typename Fn>
    std::size_t drain(Fn&& on_response) {
        std::size_t n = 0;
        while (auto rsp = front_.take_response(fault_)) {
            on_response(*rsp);
            ++n;
        }
        if (fault_) {
            throw std::runtime_error("backend wrote an impossible rsp_prod");
        }
        return n;
    }
    void wait_for_responses() {
        if (front_.final_check_for_responses()) {
            return;
        }
        wait_readable(front_events_->fd());
        drain_port(*front_events_);
    }
    [[nodiscard]] bool backend_failed() const noexcept { return backend_fault_.load(); }

private:
    static void drain_port(twofold::xen::EventChannel& events) {
        while (const auto port = events.pending()) {
            events.unmask(*port);
        }
    }

    void serve() {
        const auto handler = [](const BenchRequest& req, BenchResponse& rsp) noexcept {
            const BenchResponse r = answer(req);
            rsp.id = r.id;
            rsp.sum = r.sum;
            rsp.status = r.status;
        };
        while (!stop_.load()) {
            wait_readable(back_events_->fd());
            drain_port(*back_events_);
            twofold::rings::ProcessResult result;
            do {
                result = back_.process(kBudget, handler);
                if (result.notify) {
                    back_events_->notify(back_port_);
                }
                if (result.fault) {
                    backend_fault_ = true;
                    return;
                }
            } while (result.more_pending && !stop_.load());
        }
    }

    twofold::loopback::Hypervisor hv_;
    twofold::xen::DomId guest_;
    std::vector<twofold::xen::Gfn> gfns_;
    twofold::xen::MappedPages front_view_;
    twofold::xen::GrantRef ref_;
    std::unique_ptr<twofold::xen::Platform> dom0_;
    std::unique_ptr<twofold::xen::Platform> guest_platform_;
    std::unique_ptr<twofold::xen::GrantMapper> mapper_;
    twofold::xen::MappedPages back_view_;
    std::unique_ptr<twofold::xen::EventChannel> front_events_;
    std::unique_ptr<twofold::xen::EventChannel> back_events_;
    twofold::xen::Port front_port_;
    twofold::xen::Port back_port_;
    Front front_;
    Back back_;
    std::optional<RingFault> fault_;
    std::atomic<bool> stop_{false};
    std::atomic<bool> backend_fault_{false};
    std::thread backend_;
};

// --- raw: the practical limit -------------------------------------------------------------

// A minimal SPSC ring of fixed slots with free-running indices in shared memory.
template <typename T, std::size_t N>
struct SpscRing {
    alignas(64) std::atomic<std::uint32_t> head{0}; // consumer
    alignas(64) std::atomic<std::uint32_t> tail{0}; // producer
    alignas(64) std::atomic<bool> sleeping{false};  // consumer is (about to be) blocked
    std::array<T, N> slots{};

    bool push(const T& value) noexcept {
        const std::uint32_t t = tail.load(std::memory_order_relaxed);
        if (t - head.load(std::memory_order_acquire) == N) {
            return false;
        }
        slots[t % N] = value;
        tail.store(t + 1, std::memory_order_seq_cst);
        return true;
    }
    std::optional<T> pop() noexcept {
        const std::uint32_t h = head.load(std::memory_order_relaxed);
        if (h == tail.load(std::memory_order_acquire)) {
            return std::nullopt;
        }
        T value = slots[h % N];
        head.store(h + 1, std::memory_order_release);
        return value;
    }
    [[nodiscard]] bool empty() const noexcept {
        return head.load(std::memory_order_relaxed) == tail.load(std::memory_order_seq_cst);
    }
};

class EventFd {
public:
    EventFd() : fd_(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {
        if (fd_ < 0) {
            throw std::runtime_error("eventfd");
        }
    }
    ~EventFd() { ::close(fd_); }
    EventFd(const EventFd&) = delete;
    EventFd& operator=(const EventFd&) = delete;
    void signal() const noexcept {
        const std::uint64_t one = 1;
        [[maybe_unused]] const auto n = ::write(fd_, &one, sizeof one);
    }
    void wait() const noexcept {
        wait_readable(fd_);
        std::uint64_t count = 0;
        [[maybe_unused]] const auto n = ::read(fd_, &count, sizeof count);
    }

private:
    int fd_;
};

class RawLink {
    static constexpr std::size_t kSlots = LoopbackLink::Back::entries_for(twofold::xen::kPageSize);
    struct Shared {
        SpscRing<BenchRequest, kSlots> requests;
        SpscRing<BenchResponse, kSlots> responses;
    };

public:
    RawLink()
        : memory_(::mmap(nullptr, sizeof(Shared), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0)) {
        if (memory_ == MAP_FAILED) {
            throw std::runtime_error("mmap");
        }
        shared_ = ::new (memory_) Shared();
        backend_ = std::thread([this] { serve(); });
    }
    ~RawLink() {
        stop_ = true;
        to_backend_.signal();
        backend_.join();
        shared_->~Shared();
        ::munmap(memory_, sizeof(Shared));
    }
    RawLink(const RawLink&) = delete;
    RawLink& operator=(const RawLink&) = delete;

    bool put(const BenchRequest& req) noexcept { return shared_->requests.push(req); }
    void publish() { wake(shared_->requests, to_backend_); }
    template <typename Fn>
    std::size_t drain(Fn&& on_response) {
        std::size_t n = 0;
        while (auto rsp = shared_->responses.pop()) {
            on_response(*rsp);
            ++n;
        }
        return n;
    }
    void wait_for_responses() { sleep_until_nonempty(shared_->responses, to_frontend_); }
    [[nodiscard]] bool backend_failed() const noexcept { return false; }

private:
    template <typename Ring>
    static void wake(Ring& ring, const EventFd& fd) {
        if (ring.sleeping.exchange(false, std::memory_order_seq_cst)) {
            fd.signal();
        }
    }
    template <typename Ring>
    static void sleep_until_nonempty(Ring& ring, const EventFd& fd) {
        // Announce, re-check, then block: a push after the re-check sees `sleeping` and signals.
        ring.sleeping.store(true, std::memory_order_seq_cst);
        if (ring.empty()) {
            fd.wait();
        }
        ring.sleeping.store(false, std::memory_order_relaxed);
    }

    void serve() {
        while (!stop_.load()) {
            std::size_t done = 0;
            while (done < kBudget) {
                const auto req = shared_->requests.pop();
                if (!req) {
                    break;
                }
                while (!shared_->responses.push(answer(*req))) {
                    // The frontend never has more in flight than the ring holds; cannot spin long.
                }
                ++done;
            }
            if (done > 0) {
                wake(shared_->responses, to_frontend_);
            } else {
                sleep_until_nonempty(shared_->requests, to_backend_);
            }
        }
    }

    void* memory_;
    Shared* shared_ = nullptr;
    EventFd to_backend_;
    EventFd to_frontend_;
    std::atomic<bool> stop_{false};
    std::thread backend_;
};

// --- the two workloads, identical for both links ---------------------------------------------

template <typename Link>
void ping_pong(benchmark::State& state) {
    Link link;
    std::uint64_t id = 0;
    std::uint64_t checksum = 0;
    for (auto _ : state) {
        if (!link.put(make_request(id))) {
            state.SkipWithError("ring unexpectedly full");
            break;
        }
        link.publish();
        while (link.drain([&](const BenchResponse& rsp) { checksum += rsp.sum; }) == 0) {
            if (link.backend_failed()) {
                state.SkipWithError("backend faulted");
                return;
            }
            link.wait_for_responses();
        }
        ++id;
    }
    benchmark::DoNotOptimize(checksum);
    state.SetItemsProcessed(static_cast<std::int64_t>(id));
    state.SetBytesProcessed(static_cast<std::int64_t>(id * kPayload));
}

template <typename Link>
void stream(benchmark::State& state) {
    Link link;
    std::uint64_t total = 0;
    std::uint64_t checksum = 0;
    for (auto _ : state) {
        std::size_t sent = 0;
        std::size_t received = 0;
        while (received < kStreamBatch) {
            while (sent < kStreamBatch && link.put(make_request(total + sent))) {
                ++sent;
            }
            link.publish();
            const std::size_t got = link.drain([&](const BenchResponse& rsp) { checksum += rsp.sum; });
            received += got;
            if (got == 0 && received < kStreamBatch) {
                if (link.backend_failed()) {
                    state.SkipWithError("backend faulted");
                    return;
                }
                link.wait_for_responses();
            }
        }
        total += kStreamBatch;
    }
    benchmark::DoNotOptimize(checksum);
    state.SetItemsProcessed(static_cast<std::int64_t>(total));
    state.SetBytesProcessed(static_cast<std::int64_t>(total * kPayload));
}

void BM_RoundTrip_Loopback(benchmark::State& state) { ping_pong<LoopbackLink>(state); }
void BM_RoundTrip_Raw(benchmark::State& state) { ping_pong<RawLink>(state); }
void BM_Stream_Loopback(benchmark::State& state) { stream<LoopbackLink>(state); }
void BM_Stream_Raw(benchmark::State& state) { stream<RawLink>(state); }

BENCHMARK(BM_RoundTrip_Loopback)->UseRealTime()->MinTime(1.0);
BENCHMARK(BM_RoundTrip_Raw)->UseRealTime()->MinTime(1.0);
BENCHMARK(BM_Stream_Loopback)->UseRealTime()->MinTime(1.0);
BENCHMARK(BM_Stream_Raw)->UseRealTime()->MinTime(1.0);

// Console output as usual, plus the items/s of every run for the summary.
class CollectingReporter : public benchmark::ConsoleReporter {
public:
    void ReportRuns(const std::vector<Run>& runs) override {
        ConsoleReporter::ReportRuns(runs);
        for (const auto& run : runs) {
            if (run.run_type == Run::RT_Iteration && !run.error_occurred) {
                const auto it = run.counters.find("items_per_second");
                if (it != run.counters.end()) {
                    rates_[run.run_name.function_name] = it->second.value;
                }
            }
        }
    }
    [[nodiscard]] std::optional<double> rate(const std::string& name) const {
        const auto it = rates_.find(name);
        return it == rates_.end() ? std::nullopt : std::optional<double>(it->second);
    }

private:
    std::map<std::string, double> rates_;
};

// The goal of issue 2: the loopback transport within 2x of the raw ring.
constexpr double kGoalRatio = 2.0;

bool print_ratio(const CollectingReporter& reporter, const char* what, const std::string& loopback, const std::string& raw) {
    const auto l = reporter.rate(loopback);
    const auto r = reporter.rate(raw);
    if (!l || !r || *l <= 0.0) {
        std::printf("transport/raw ratio (%s): not measured\n", what);
        return false;
    }
    const double ratio = *r / *l;
    std::printf("transport/raw ratio (%s): %.2fx (loopback %.0f/s, %.1f MB/s; raw %.0f/s, %.1f MB/s) (goal <= %.0fx)%s\n", what,
                ratio, *l, *l * kPayload / 1e6, *r, *r * kPayload / 1e6, kGoalRatio, ratio <= kGoalRatio ? "" : "  ABOVE GOAL");
    return true;
}

} // namespace

int main(int argc, char** argv) {
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) {
        return 1;
    }
    CollectingReporter reporter;
    benchmark::RunSpecifiedBenchmarks(&reporter);
    benchmark::Shutdown();
    const bool round_trip = print_ratio(reporter, "round trips, 1 in flight", "BM_RoundTrip_Loopback", "BM_RoundTrip_Raw");
    const bool streaming = print_ratio(reporter, "streaming, ring-full in flight", "BM_Stream_Loopback", "BM_Stream_Raw");
    return round_trip || streaming ? 0 : 1;
}
