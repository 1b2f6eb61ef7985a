// Request/response ring with real threads: a frontend that rewrites request slots while the
// backend processes them (double fetch, XSA-155) and a pipelined frontend/backend pair
// sleeping on notifications (no lost wake-up). Run under TSan (label concurrency) and ASan.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <mutex>
#include <random>
#include <thread>

#include <gtest/gtest.h>

#include "test_support.h"
#include "twofold/rings/back_ring.h"
#include "twofold/rings/front_ring.h"

namespace twofold::rings {
namespace {

using test::Request;
using test::Response;
using Back = BackRing<Request, Response>;
using Front = FrontRing<Request, Response>;

// An event channel as the loopback has it: notifications coalesce into one pending flag.
class TestEventChannel {
public:
    void notify() {
        {
            const std::lock_guard lock(mutex_);
            pending_ = true;
        }
        cv_.notify_one();
    }
    // false on timeout: with a correct hold-off protocol that never happens.
    bool wait(std::chrono::milliseconds timeout) {
        std::unique_lock lock(mutex_);
        if (!cv_.wait_for(lock, timeout, [this] { return pending_; })) {
            return false;
        }
        pending_ = false;
        return true;
    }

private:
    std::mutex mutex_;
    std::condition_variable cv_;
    bool pending_ = false;
};

// Busy work between two looks at the same request, so that a handler reading shared memory
// twice would see the frontend's rewrite in between.
void pause_a_little() {
    volatile int spin = 0;
    while (spin < 50) {
        spin = spin + 1;
    }
}

// Field by field through a volatile view (padding left zero so memcmp compares fields only).
Request read_fields(const Request& req) {
    const volatile Request& view = req;
    Request copy{};
    copy.id = view.id;
    copy.op = view.op;
    for (std::size_t i = 0; i < 6; ++i) {
        copy.payload[i] = view.payload[i];
        pause_a_little();
    }
    copy.checksum = view.checksum;
    return copy;
}

TEST(BackRingConcurrency, HandlerSeesStableCopyWhileFrontendRewritesSlots) {
    test::SharedPages shared(1);
    Front front(shared.bytes());
    Back back(shared.bytes());
    constexpr std::uint64_t kRequests = 5000;
    std::atomic<bool> done{false};
    std::atomic<std::uint64_t> rewrites{0};

    // One frontend thread, well-behaved in its indices (so the ring never faults) and
    // hostile in its slots: between publishing requests and reading responses it keeps
    // rewriting every slot with fresh, individually consistent requests, so a torn read
    // mixes two consistent versions and a second read sees a different one.
    std::jthread frontend([&] {
        std::minstd_rand rng(7);
        std::optional<RingFault> fault;
        std::uint64_t sent = 0;
        std::uint64_t received = 0;
        while (received < kRequests && !fault && !done.load(std::memory_order_relaxed)) {
            while (sent < kRequests && front.put_request(test::make_request(sent))) {
                ++sent;
            }
            (void)front.push_requests();
            for (std::size_t i = 0; i < back.size(); ++i) {
                const Request r = test::make_request(rng());
                copy_to_shared(shared.bytes().subspan(Back::kRingOffset + i * sizeof(Back::Entry), sizeof r),
                               std::as_bytes(std::span{&r, 1}));
            }
            rewrites.fetch_add(1, std::memory_order_relaxed);
            while (front.take_response(fault)) {
                ++received;
            }
        }
        done.store(true, std::memory_order_relaxed);
    });

    std::uint64_t handled = 0;
    std::uint64_t unstable = 0;
    std::uint64_t valid = 0;
    const auto handler = [&](const Request& req, Response& rsp) noexcept {
        // Validate, wait, then use: the way a parser reads fields at different times. The
        // volatile view makes every read a real load, so if `req` were shared memory (a
        // double fetch) the frontend's rewrites would show up between the two reads.
        const Request validated = read_fields(req);
        const bool consistent = test::checksum_of(validated) == validated.checksum;
        pause_a_little();
        const Request used = read_fields(req);
        if (std::memcmp(&validated, &used, sizeof used) != 0) {
            ++unstable;
        }
        valid += consistent ? 1 : 0;
        rsp.id = used.id;
        rsp.status = consistent ? 0 : 1;
        ++handled;
    };
    std::optional<RingFault> backend_fault;
    while (!done.load(std::memory_order_relaxed) && !backend_fault) {
        backend_fault = back.process(16, handler).fault;
    }
    done = true; // also stops the frontend if the backend gave up
    frontend.join();

    EXPECT_FALSE(backend_fault.has_value());
    EXPECT_EQ(unstable, 0U);
    EXPECT_EQ(handled, kRequests);
    EXPECT_GT(rewrites.load(), 0U);
    RecordProperty("valid_copies", static_cast<int>(valid));
}

TEST(BackRingConcurrency, PipelinedFrontendAndBackendNeverLoseAWakeUp) {
    test::SharedPages shared(1);
    Front front(shared.bytes());
    Back back(shared.bytes());
    TestEventChannel to_backend;
    TestEventChannel to_frontend;
    constexpr std::uint64_t kRequests = 20000;
    constexpr std::uint64_t kWindow = 8;
    constexpr auto kTimeout = std::chrono::seconds(10);
    std::atomic<bool> stop{false};
    std::atomic<bool> backend_stalled{false};
    std::atomic<std::uint64_t> handled{0};

    std::jthread backend([&] {
        const auto handler = [&](const Request& req, Response& rsp) noexcept {
            rsp.id = req.id;
            handled.fetch_add(1, std::memory_order_relaxed);
        };
        while (!stop.load()) {
            const auto result = back.process(4, handler);
            if (result.notify) {
                to_frontend.notify();
            }
            if (!result.more_pending && !to_backend.wait(kTimeout) && !stop.load()) {
                backend_stalled = true;
                return;
            }
        }
    });

    std::optional<RingFault> fault;
    std::uint64_t sent = 0;
    std::uint64_t received = 0;
    bool frontend_stalled = false;
    bool out_of_order = false;
    while (received < kRequests && !frontend_stalled && !backend_stalled.load()) {
        while (sent < kRequests && sent - received < kWindow && front.put_request(test::make_request(sent))) {
            ++sent;
        }
        if (front.push_requests()) {
            to_backend.notify();
        }
        bool progressed = false;
        while (const auto rsp = front.take_response(fault)) {
            out_of_order |= rsp->id != received;
            ++received;
            progressed = true;
        }
        if (!progressed && !front.final_check_for_responses()) {
            frontend_stalled = !to_frontend.wait(kTimeout);
        }
    }
    stop = true;
    to_backend.notify();
    backend.join();

    EXPECT_FALSE(frontend_stalled) << "frontend waited " << kTimeout.count() << "s for a response: lost wake-up";
    EXPECT_FALSE(backend_stalled.load()) << "backend waited for a request: lost wake-up";
    EXPECT_FALSE(out_of_order);
    EXPECT_FALSE(fault.has_value());
    EXPECT_EQ(received, kRequests);
    EXPECT_EQ(handled.load(), kRequests);
}

} // namespace
} // namespace twofold::rings
