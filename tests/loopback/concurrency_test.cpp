// The loopback machine shared between a backend thread and simulated frontend threads
// (these run under TSan).
#include <gtest/gtest.h>
#include <poll.h>

#include <atomic>
#include <cstdint>
#include <thread>

#include "twofold/loopback/hypervisor.h"
#include "twofold/xen/error.h"

namespace twofold::loopback {
namespace {

constexpr int kRoundTrips = 2000;

// Waits for the next fired port, re-arming it as an evtchn user does.
xen::Port wait_and_take(xen::EventChannel& channel) {
    for (;;) {
        if (auto port = channel.pending()) {
            channel.unmask(*port);
            return *port;
        }
        pollfd pfd{channel.fd(), POLLIN, 0};
        ::poll(&pfd, 1, 1000);
    }
}

std::atomic_ref<std::uint32_t> word_at(std::span<std::byte> bytes) {
    return std::atomic_ref<std::uint32_t>(*reinterpret_cast<std::uint32_t*>(bytes.data()));
}

TEST(LoopbackConcurrency, PingPongAcrossThreadsDeliversEveryNotification) {
    Hypervisor hv;
    const auto guest = hv.create_domain("guest");
    auto backend = hv.platform(xen::kDom0)->open_event_channel();
    auto frontend = hv.platform(guest)->open_event_channel();
    const xen::Port remote = frontend->bind_unbound(xen::kDom0);
    const xen::Port local = backend->bind_interdomain(guest, remote);

    std::thread peer([&] {
        for (int i = 0; i < kRoundTrips; ++i) {
            frontend->notify(remote);
            wait_and_take(*frontend);
        }
    });
    int answered = 0;
    for (int i = 0; i < kRoundTrips; ++i) {
        EXPECT_EQ(wait_and_take(*backend), local);
        backend->notify(local);
        ++answered;
    }
    peer.join();
    EXPECT_EQ(answered, kRoundTrips);
}

TEST(LoopbackConcurrency, FrontendRewritesAreSeenThroughBackendMapping) {
    Hypervisor hv;
    const auto guest = hv.create_domain("guest");
    const auto gfn = hv.allocate_pages(guest, 1).at(0);
    const auto ref = hv.grant_access(guest, gfn, xen::kDom0, xen::Access::ReadOnly);
    auto mapped = hv.platform(xen::kDom0)->open_grant_mapper()->map(guest, std::span(&ref, 1), xen::Access::ReadOnly);
    auto view = hv.frontend_view(guest, gfn);
    std::atomic<bool> stop{false};

    std::thread rewriter([&] {
        std::uint32_t value = 0;
        while (!stop.load()) {
            word_at(view.bytes()).store(++value, std::memory_order_relaxed);
        }
    });
    // A true concurrent rewrite: the backend sees the value change under it.
    const std::uint32_t first = word_at(mapped.bytes()).load(std::memory_order_relaxed);
    std::uint32_t later = first;
    while (later == first) {
        later = word_at(mapped.bytes()).load(std::memory_order_relaxed);
    }
    stop.store(true);
    rewriter.join();
    EXPECT_NE(later, first);
}

TEST(LoopbackConcurrency, DestroyWhileFrontendNotifiesLeavesBackendServing) {
    Hypervisor hv;
    const auto guest = hv.create_domain("guest");
    auto backend = hv.platform(xen::kDom0)->open_event_channel();
    auto frontend = hv.platform(guest)->open_event_channel();
    const xen::Port remote = frontend->bind_unbound(xen::kDom0);
    const xen::Port local = backend->bind_interdomain(guest, remote);
    std::atomic<bool> closed_seen{false};

    std::thread flood([&] {
        try {
            for (;;) {
                frontend->notify(remote);
            }
        } catch (const xen::XenError& error) {
            closed_seen = error.errno_value() == EBADF;
        }
    });
    EXPECT_EQ(wait_and_take(*backend), local);
    hv.destroy_domain(guest);
    flood.join();

    EXPECT_TRUE(closed_seen.load());
    EXPECT_EQ(hv.port_state(xen::kDom0, local), PortState::Unbound);
    backend->notify(local);
}

TEST(LoopbackConcurrency, WatchEventsFromAnotherThreadWakeTheWatcher) {
    Hypervisor hv;
    const auto guest = hv.create_domain("guest");
    const std::string state = "/local/domain/" + std::to_string(guest) + "/device/vif/0/state";
    auto backend = hv.platform(xen::kDom0)->open_xenstore();
    backend->watch(state, "fe");
    backend->take_watch_events();

    std::thread frontend([&] {
        auto store = hv.platform(guest)->open_xenstore();
        for (int i = 1; i <= 4; ++i) {
            store->write(state, std::to_string(i));
        }
    });
    std::string last;
    while (last != "4") {
        pollfd pfd{backend->watch_fd(), POLLIN, 0};
        ::poll(&pfd, 1, 1000);
        for (const auto& event : backend->take_watch_events()) {
            EXPECT_EQ(event.path, state);
            last = backend->read(state).value_or("");
        }
    }
    frontend.join();
    EXPECT_EQ(last, "4");
}

TEST(LoopbackConcurrency, ParallelMapAndUnmapLeavesNoMappings) {
    Hypervisor hv;
    const auto guest = hv.create_domain("guest");
    const auto gfns = hv.allocate_pages(guest, 4);
    std::vector<xen::GrantRef> refs;
    for (const auto gfn : gfns) {
        refs.push_back(hv.grant_access(guest, gfn, xen::kDom0, xen::Access::ReadWrite));
    }
    auto dom0 = hv.platform(xen::kDom0);
    auto work = [&] {
        auto mapper = dom0->open_grant_mapper();
        for (int i = 0; i < 200; ++i) {
            auto mapped = mapper->map(guest, refs, xen::Access::ReadWrite);
            word_at(mapped.bytes()).fetch_add(1);
        }
    };
    std::thread a(work);
    std::thread b(work);
    a.join();
    b.join();
    EXPECT_EQ(hv.live_grant_mappings(), 0U);
    EXPECT_EQ(word_at(hv.frontend_view(guest, gfns[0]).bytes()).load(), 400U);
}

} // namespace
} // namespace twofold::loopback
