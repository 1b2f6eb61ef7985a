// Hostile guests racing the backend from other threads (run under TSan and ASan in CI).
#include <atomic>
#include <chrono>
#include <cstdint>
#include <thread>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <gtest/gtest.h>

#include "hostile_fixture.h"
#include "twofold/rings/request_ring_core.h"

namespace twofold::hostile {
namespace {

using namespace std::chrono_literals;
using xenbus::XenbusState;

// Rewrites every request slot of a ring, word by word, flipping between requests that pass
// validation with different lengths and payloads and one that must fail it.
class SlotRewriter {
public:
    explicit SlotRewriter(std::span<std::byte> shared) : shared_(shared), thread_([this] { run(); }) {}
    ~SlotRewriter() {
        stop_.store(true);
        thread_.join();
    }
    [[nodiscard]] std::size_t rounds() const { return rounds_.load(); }

private:
    void run() {
        const std::size_t first = EchoBackRing::kRingOffset;
        const std::size_t slot_size = sizeof(EchoBackRing::Entry);
        const std::size_t slots = EchoBackRing::entries_for(shared_.size());
        std::uint32_t flip = 0;
        while (!stop_.load(std::memory_order_relaxed)) {
            const std::uint32_t len = (flip % 3 == 0) ? 4 : (flip % 3 == 1 ? 48 : 255);
            const std::uint32_t fill = (flip % 2 == 0) ? 0x41414141U : 0x42424242U;
            for (std::size_t slot = 0; slot < slots; ++slot) {
                auto* words = reinterpret_cast<std::uint32_t*>(shared_.data() + first + slot * slot_size);
                store(words[1], kEchoOp | (len << 8));
                for (std::size_t w = 2; w < sizeof(EchoRequest) / 4; ++w) store(words[w], fill);
            }
            ++flip;
            rounds_.fetch_add(1, std::memory_order_relaxed);
        }
    }
    static void store(std::uint32_t& word, std::uint32_t value) {
        // The guest's own accesses are atomic too: a data race in the simulated guest would be
        // a bug in the test, not in the backend.
        std::atomic_ref<std::uint32_t>(word).store(value, std::memory_order_relaxed);
    }

    std::span<std::byte> shared_;
    std::atomic<bool> stop_{false};
    std::atomic<std::size_t> rounds_{0};
    std::thread thread_;
};

TEST_F(TwoFrontends, RewritingRequestsDuringProcessingCannotTearTheBackendsCopy) {
    hostile.connect(backend);
    std::size_t pushed = 0;
    {
        const SlotRewriter rewriter(hostile.shared());
        const auto deadline = std::chrono::steady_clock::now() + 1500ms;
        while (std::chrono::steady_clock::now() < deadline) {
            while (hostile.send(1, "0123456789012345678901234567890123456789")) ++pushed;
            hostile.notify();
            backend.run_until([&] { return hostile.front().free_requests() == hostile.front().size() ||
                                           !hostile.take_responses().empty(); },
                              100ms);
        }
        EXPECT_GT(rewriter.rounds(), 0U);
    }
    backend.settle();
    EXPECT_GT(stats_of(hostile).served.load() + stats_of(hostile).error_responses.load(), 0U);
    EXPECT_EQ(stats_of(hostile).torn_reads.load(), 0U);
    EXPECT_EQ(hostile.backend_state(), xenbus::to_xenstore(XenbusState::Connected));
    expect_good_still_served();
}

// The backend's io_context on its own thread, as in the real backend process.
class BackendThread {
public:
    explicit BackendThread(boost::asio::io_context& io)
        : io_(io), guard_(boost::asio::make_work_guard(io)), thread_([this] { io_.run(); }) {}
    ~BackendThread() {
        guard_.reset();
        io_.stop();
        thread_.join();
        io_.restart();
    }

private:
    boost::asio::io_context& io_;
    boost::asio::executor_work_guard<boost::asio::io_context::executor_type> guard_;
    std::thread thread_;
};

// A guest thread that keeps its ring full and keeps kicking until told to stop or its domain dies.
class Flooder {
public:
    explicit Flooder(EchoFrontend& frontend) : frontend_(frontend), thread_([this] { run(); }) {}
    ~Flooder() {
        stop_.store(true);
        thread_.join();
    }

private:
    void run() {
        try {
            while (!stop_.load()) {
                (void)frontend_.take_responses();
                while (frontend_.send(1, "flood")) {
                }
                for (int i = 0; i < 50; ++i) frontend_.notify();
            }
        } catch (const std::exception&) {
            // The domain was destroyed under us: a dead guest stops flooding.
        }
    }

    EchoFrontend& frontend_;
    std::atomic<bool> stop_{false};
    std::thread thread_;
};

std::optional<EchoResponse> wait_response(EchoFrontend& frontend, std::uint32_t id) {
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    while (std::chrono::steady_clock::now() < deadline) {
        for (const auto& response : frontend.take_responses()) {
            if (response.id == id) return response;
        }
        std::this_thread::sleep_for(200us);
    }
    return std::nullopt;
}

TEST_F(TwoFrontends, ThreadedFloodStillLetsSecondFrontendThrough) {
    hostile.connect(backend);
    {
        const BackendThread running(backend.io());
        const Flooder flooder(hostile);
        for (std::uint32_t id = 100; id < 150; ++id) {
            ASSERT_TRUE(good.send(id, "through the flood"));
            const auto response = wait_response(good, id);
            ASSERT_TRUE(response.has_value()) << "request " << id << " starved";
            EXPECT_EQ(payload(*response), "through the flood");
        }
    }
    EXPECT_GT(stats_of(hostile).served.load(), 0U);
    EXPECT_LE(stats_of(hostile).max_batch.load(), kBudget);
    expect_good_still_served();
}

TEST_F(TwoFrontends, DomainDestroyedWhileFloodingIsReleased) {
    hostile.connect(backend);
    const auto domid = hostile.domid();
    {
        const BackendThread running(backend.io());
        const Flooder flooder(hostile);
        std::this_thread::sleep_for(100ms);
        hypervisor.destroy_domain(domid);
        const auto deadline = std::chrono::steady_clock::now() + 5s;
        while (std::chrono::steady_clock::now() < deadline &&
               (hypervisor.live_grant_mappings() != 1 || hypervisor.bound_ports(xen::kDom0) != 1)) {
            std::this_thread::sleep_for(1ms);
        }
    }
    EXPECT_EQ(hypervisor.live_grant_mappings(), 1U);
    EXPECT_EQ(hypervisor.bound_ports(xen::kDom0), 1U);
    EXPECT_EQ(service.find(domid, 0), nullptr);
    expect_good_still_served();
}

} // namespace
} // namespace twofold::hostile
