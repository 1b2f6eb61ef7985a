#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "twofold/xenbus/backend_runtime.h"
#include "twofold/xenbus_test/loopback_backend.h"

namespace twofold::xenbus {
namespace {

using testing::FrontendDomain;
using testing::LoopbackBackend;

class AsioXenstoreWatchTest : public ::testing::Test {
protected:
    loopback::Hypervisor hypervisor;
    LoopbackBackend backend{hypervisor};
    std::vector<std::string> seen;
    AsioXenstoreWatch::Handler record = [this](const std::string& path) { seen.push_back(path); };
};

TEST_F(AsioXenstoreWatchTest, FiresOnceOnRegistration) {
    auto subscription = backend.watches().watch("/local/domain/0/data", record);
    ASSERT_TRUE(backend.run_until([&] { return !seen.empty(); }));
    EXPECT_EQ(seen.front(), "/local/domain/0/data");
}

TEST_F(AsioXenstoreWatchTest, FiresOnChangeBelowWatchedPath) {
    auto subscription = backend.watches().watch("/local/domain/0/data", record);
    backend.settle();
    seen.clear();
    backend.store().write("/local/domain/0/data/x", "1");
    ASSERT_TRUE(backend.run_until([&] { return !seen.empty(); }));
    EXPECT_EQ(seen.front(), "/local/domain/0/data/x");
}

TEST_F(AsioXenstoreWatchTest, ResetSubscriptionStopsDelivery) {
    auto subscription = backend.watches().watch("/local/domain/0/data", record);
    backend.settle();
    subscription.reset();
    seen.clear();
    backend.store().write("/local/domain/0/data/x", "1");
    backend.settle();
    EXPECT_TRUE(seen.empty());
    EXPECT_EQ(backend.watches().watch_count(), 0U);
}

TEST_F(AsioXenstoreWatchTest, HandlerMayRemoveItsOwnSubscription) {
    AsioXenstoreWatch::Subscription subscription;
    int calls = 0;
    subscription = backend.watches().watch("/local/domain/0/data", [&](const std::string&) {
        ++calls;
        subscription.reset();
    });
    backend.settle();
    backend.store().write("/local/domain/0/data/x", "1");
    backend.settle();
    EXPECT_EQ(calls, 1);
}

TEST_F(AsioXenstoreWatchTest, ThrowingHandlerIsLoggedAndOthersStillRun) {
    auto failing = backend.watches().watch("/local/domain/0/data", [](const std::string&) {
        throw std::runtime_error("handler bug");
    });
    auto other = backend.watches().watch("/local/domain/0/data", record);
    ASSERT_TRUE(backend.run_until([&] { return !seen.empty(); }));
    EXPECT_TRUE(backend.logs().contains("handler bug"));
}

// A bound interdomain channel between a frontend domain and the backend.
struct Channel {
    xen::Port frontend_port;
    xen::Port backend_port;
};

class AsioEventChannelTest : public ::testing::Test {
protected:
    static constexpr std::size_t kBudget = 7;
    loopback::Hypervisor hypervisor;
    LoopbackBackend backend{hypervisor, kBudget};
    FrontendDomain guest{hypervisor, "guest"};

    Channel connect() {
        const auto frontend_port = guest.events().bind_unbound(xen::kDom0);
        return {frontend_port, backend.events().bind_interdomain(guest.domid(), frontend_port)};
    }
};

TEST_F(AsioEventChannelTest, RunsHandlerOnceRightAfterRegistration) {
    const auto channel = connect();
    int calls = 0;
    auto registration = backend.ports().add(channel.backend_port, [&](std::size_t) { ++calls; return Work::Done; });
    ASSERT_TRUE(backend.run_until([&] { return calls == 1; }));
}

TEST_F(AsioEventChannelTest, DispatchesNotifyToItsPortWithTheBudget) {
    const auto channel = connect();
    int calls = 0;
    std::size_t budget = 0;
    auto registration = backend.ports().add(channel.backend_port, [&](std::size_t b) {
        ++calls;
        budget = b;
        return Work::Done;
    });
    backend.settle();
    guest.events().notify(channel.frontend_port);
    ASSERT_TRUE(backend.run_until([&] { return calls == 2; }));
    EXPECT_EQ(budget, kBudget);
}

TEST_F(AsioEventChannelTest, UnmasksAfterHandlerSoTheNextNotifyArrives) {
    const auto channel = connect();
    int calls = 0;
    auto registration = backend.ports().add(channel.backend_port, [&](std::size_t) { ++calls; return Work::Done; });
    backend.settle();
    for (int i = 0; i < 3; ++i) {
        guest.events().notify(channel.frontend_port);
        ASSERT_TRUE(backend.run_until([&] { return calls == 2 + i; }));
    }
}

TEST_F(AsioEventChannelTest, MorePendingIsRepostedBehindOtherReadyPorts) {
    const auto busy = connect();
    const auto quiet = connect();
    std::vector<char> order;
    int busy_rounds = 0;
    auto busy_registration = backend.ports().add(busy.backend_port, [&](std::size_t) {
        order.push_back('b');
        return ++busy_rounds < 5 ? Work::MorePending : Work::Done;
    });
    auto quiet_registration = backend.ports().add(quiet.backend_port, [&](std::size_t) {
        order.push_back('q');
        return Work::Done;
    });
    ASSERT_TRUE(backend.run_until([&] { return busy_rounds == 5; }));
    // The quiet port ran right after the busy one's first round, not after all five.
    ASSERT_GE(order.size(), 3U);
    EXPECT_EQ(std::string(order.begin(), order.begin() + 3), "bqb");
}

TEST_F(AsioEventChannelTest, RemovedRegistrationIsNotCalled) {
    const auto channel = connect();
    int calls = 0;
    auto registration = backend.ports().add(channel.backend_port, [&](std::size_t) { ++calls; return Work::Done; });
    backend.settle();
    registration.reset();
    guest.events().notify(channel.frontend_port);
    backend.settle();
    EXPECT_EQ(calls, 1);
    EXPECT_EQ(backend.ports().handler_count(), 0U);
}

TEST_F(AsioEventChannelTest, HandlerMayRemoveItsOwnRegistration) {
    const auto channel = connect();
    AsioEventChannel::Registration registration;
    int calls = 0;
    registration = backend.ports().add(channel.backend_port, [&](std::size_t) {
        ++calls;
        registration.reset();
        return Work::MorePending;
    });
    backend.settle();
    EXPECT_EQ(calls, 1);
}

TEST_F(AsioEventChannelTest, ThrowingHandlerIsLoggedAndPortStaysServed) {
    const auto channel = connect();
    int calls = 0;
    auto registration = backend.ports().add(channel.backend_port, [&](std::size_t) -> Work {
        if (++calls == 1) throw std::runtime_error("device bug");
        return Work::Done;
    });
    backend.settle();
    EXPECT_TRUE(backend.logs().contains("device bug"));
    guest.events().notify(channel.frontend_port);
    ASSERT_TRUE(backend.run_until([&] { return calls == 2; }));
}

} // namespace
} // namespace twofold::xenbus

namespace twofold::xenbus {
namespace {

TEST(BackendRuntime, TakesOwnDomidFromPlatform) {
    loopback::Hypervisor hypervisor;
    const auto platform = hypervisor.platform(xen::kDom0);
    const BackendRuntime runtime(*platform, std::make_shared<spdlog::logger>("runtime-test"));
    EXPECT_EQ(runtime.own_domid(), xen::kDom0);
}

TEST(BackendRuntime, ClosesEveryHandleItOpened) {
    loopback::Hypervisor hypervisor;
    const auto platform = hypervisor.platform(xen::kDom0);
    const auto xenstores_before = hypervisor.open_xenstore_connections();
    const auto channels_before = hypervisor.open_event_channel_handles();
    {
        const BackendRuntime runtime(*platform, std::make_shared<spdlog::logger>("runtime-test"));
        EXPECT_EQ(hypervisor.open_xenstore_connections(), xenstores_before + 1);
        EXPECT_EQ(hypervisor.open_event_channel_handles(), channels_before + 1);
    }
    EXPECT_EQ(hypervisor.open_xenstore_connections(), xenstores_before);
    EXPECT_EQ(hypervisor.open_event_channel_handles(), channels_before);
}

} // namespace
} // namespace twofold::xenbus
