// The hostile-frontend suite: one misbehaving guest at a time, each test proving the backend
// survives, releases what that guest had, and keeps serving the well-behaved second guest.
#include <atomic>
#include <cstdint>
#include <string>

#include <gtest/gtest.h>

#include "hostile_fixture.h"
#include "twofold/rings/request_ring_core.h"

namespace twofold::hostile {
namespace {

using xenbus::XenbusState;

void store_shared_index(std::span<std::byte> shared, std::size_t offset, std::uint32_t value) {
    std::atomic_ref<std::uint32_t>(*reinterpret_cast<std::uint32_t*>(shared.data() + offset))
        .store(value, std::memory_order_release);
}

std::uint32_t load_shared_index(std::span<std::byte> shared, std::size_t offset) {
    return std::atomic_ref<std::uint32_t>(*reinterpret_cast<std::uint32_t*>(shared.data() + offset))
        .load(std::memory_order_acquire);
}

TEST_F(TwoFrontends, BothFrontendsAreServed) {
    hostile.connect(backend);
    const auto response = hostile.round_trip(backend, "hello");
    ASSERT_TRUE(response.has_value());
    EXPECT_EQ(payload(*response), "hello");
    expect_good_still_served();
    EXPECT_EQ(hypervisor.live_grant_mappings(), 2U);
}

TEST_F(TwoFrontends, OverflowingReqProdDisconnectsOnlyThatFrontend) {
    hostile.connect(backend);
    const auto rsp_prod = load_shared_index(hostile.shared(), rings::sring::kRspProd);
    store_shared_index(hostile.shared(), rings::sring::kReqProd, rsp_prod + hostile.front().size() + 1);
    hostile.notify();
    ASSERT_TRUE(wait_backend_state(hostile, XenbusState::Closing));
    EXPECT_TRUE(backend.logs().contains("ring fault"));
    EXPECT_EQ(hypervisor.live_grant_mappings(), 1U); // only the good frontend's ring
    EXPECT_EQ(hypervisor.bound_ports(xen::kDom0), 1U);
    expect_good_still_served();
}

TEST_F(TwoFrontends, UnknownOpGetsNotSupportedResponse) {
    hostile.connect(backend);
    ASSERT_TRUE(hostile.send(7, "junk", 0xEE));
    std::vector<EchoResponse> responses;
    ASSERT_TRUE(backend.run_until([&] {
        auto more = hostile.take_responses();
        responses.insert(responses.end(), more.begin(), more.end());
        return !responses.empty();
    }));
    EXPECT_EQ(responses.front().id, 7U);
    EXPECT_EQ(responses.front().status, kEchoNotSupported);
    EXPECT_EQ(hostile.backend_state(), xenbus::to_xenstore(XenbusState::Connected));
    expect_good_still_served();
}

TEST_F(TwoFrontends, OversizedLengthGetsInvalidResponseWithNothingEchoed) {
    hostile.connect(backend);
    EchoRequest request{};
    request.id = 9;
    request.op = kEchoOp;
    request.len = 255;
    ASSERT_TRUE(hostile.send_raw(request));
    std::vector<EchoResponse> responses;
    ASSERT_TRUE(backend.run_until([&] {
        auto more = hostile.take_responses();
        responses.insert(responses.end(), more.begin(), more.end());
        return !responses.empty();
    }));
    EXPECT_EQ(responses.front().status, kEchoInvalid);
    EXPECT_EQ(responses.front().len, 0U);
    expect_good_still_served();
}

TEST_F(TwoFrontends, GarbageFilledRingIsAnsweredWithErrorsOnly) {
    hostile.connect(backend);
    // A full ring of random-looking requests, pushed at once.
    std::uint32_t seed = 12345;
    std::size_t sent = 0;
    while (true) {
        EchoRequest request{};
        auto* bytes = reinterpret_cast<std::uint8_t*>(&request);
        for (std::size_t i = 0; i < sizeof request; ++i) {
            seed = seed * 1103515245U + 12345U;
            bytes[i] = static_cast<std::uint8_t>(seed >> 24);
        }
        request.op = static_cast<std::uint8_t>(request.op == kEchoOp ? 2 : request.op);
        if (!hostile.front().put_request(request)) break;
        ++sent;
    }
    (void)hostile.front().push_requests();
    hostile.notify();
    std::size_t answered = 0;
    ASSERT_TRUE(backend.run_until([&] {
        for (const auto& response : hostile.take_responses()) {
            EXPECT_NE(response.status, kEchoOk);
            ++answered;
        }
        return answered == sent;
    }));
    EXPECT_EQ(stats_of(hostile).error_responses.load(), sent);
    expect_good_still_served();
}

TEST_F(TwoFrontends, FrontendDestroyedMidRequestIsReleased) {
    hostile.connect(backend);
    for (std::uint32_t i = 0; i < 10; ++i) ASSERT_TRUE(hostile.send(i, "in flight"));
    const auto domid = hostile.domid();
    hypervisor.destroy_domain(domid);
    ASSERT_TRUE(backend.run_until([&] { return service.connection_count() == 1; }));
    EXPECT_EQ(service.find(domid, 0), nullptr);
    EXPECT_EQ(hypervisor.live_grant_mappings(), 1U);
    EXPECT_EQ(hypervisor.bound_ports(xen::kDom0), 1U);
    EXPECT_EQ(hypervisor.bound_ports(domid), 0U);
    expect_good_still_served();
}

TEST_F(TwoFrontends, EventFloodIsBoundedPerWakeAndSecondFrontendWaitsBoundedWork) {
    hostile.connect(backend);
    const auto refill = [&] {
        (void)hostile.take_responses();
        while (hostile.send(1, "flood")) {
        }
        for (int i = 0; i < 100; ++i) hostile.notify();
    };
    refill();
    for (int i = 0; i < 5000; ++i) hostile.notify();
    const auto served_before = stats_of(hostile).served.load();
    ASSERT_TRUE(good.send(4242, "urgent"));
    good.notify();
    bool answered = false;
    for (int step = 0; step < 10000 && !answered; ++step) {
        backend.io().run_one_for(std::chrono::milliseconds(10));
        for (const auto& response : good.take_responses()) answered = answered || response.id == 4242;
        refill(); // the hostile guest keeps its ring full and keeps kicking
    }
    ASSERT_TRUE(answered);
    const auto hostile_work = stats_of(hostile).served.load() - served_before;
    // While the good request waited, the flooder got at most its running batch and one more.
    EXPECT_LE(hostile_work, 2 * kBudget);
    EXPECT_LE(stats_of(hostile).max_batch.load(), kBudget);
    EXPECT_EQ(hostile.backend_state(), xenbus::to_xenstore(XenbusState::Connected));
    expect_good_still_served();
}

// Garbage in a frontend node read at bind time: the bind is refused, nothing is mapped.
struct BadNode {
    const char* node;
    const char* value;
};

class GarbageBindNode : public TwoFrontends, public ::testing::WithParamInterface<BadNode> {};

TEST_P(GarbageBindNode, IsRefusedWithLogAndNothingMapped) {
    hostile.prepare();
    hostile.domain().write(hostile.paths(), GetParam().node, GetParam().value);
    hostile.domain().set_state(hostile.paths(), XenbusState::Initialised);
    ASSERT_TRUE(wait_backend_state(hostile, XenbusState::Closing));
    EXPECT_TRUE(backend.logs().contains("refused frontend value"));
    EXPECT_TRUE(backend.logs().contains(hostile.paths().frontend_node(GetParam().node)));
    EXPECT_EQ(hypervisor.live_grant_mappings(), 1U);
    EXPECT_EQ(hypervisor.bound_ports(xen::kDom0), 1U);
    expect_good_still_served();
}

INSTANTIATE_TEST_SUITE_P(
    RingRefAndPort, GarbageBindNode,
    ::testing::Values(BadNode{"ring-ref", "abc"}, BadNode{"ring-ref", "-1"}, BadNode{"ring-ref", ""},
                      BadNode{"ring-ref", "99999999999999999999999"}, BadNode{"ring-ref", "08"},
                      BadNode{"ring-ref", "8 "}, BadNode{"event-channel", "0"},
                      BadNode{"event-channel", "131072"}, BadNode{"event-channel", "0x10"},
                      BadNode{"event-channel", "4294967296"}),
    [](const ::testing::TestParamInfo<BadNode>& param_info) {
        return std::string(param_info.param.node[0] == 'r' ? "ring_ref_" : "event_channel_") +
               std::to_string(param_info.index);
    });

TEST_F(TwoFrontends, HugeControlCharacterRingRefIsRefusedWithShortPrintableLogLine) {
    hostile.prepare();
    std::string huge(2000, '7');
    huge[5] = '\x1b';
    huge[6] = '\n';
    hostile.domain().write(hostile.paths(), "ring-ref", huge);
    hostile.domain().set_state(hostile.paths(), XenbusState::Initialised);
    ASSERT_TRUE(wait_backend_state(hostile, XenbusState::Closing));
    for (const auto& line : backend.logs().lines()) {
        EXPECT_LT(line.size(), 400U) << line;
        EXPECT_EQ(line.find('\x1b'), std::string::npos);
    }
    expect_good_still_served();
}

TEST_F(TwoFrontends, MissingRingRefIsRefused) {
    hostile.prepare();
    hostile.domain().store().remove(hostile.paths().frontend_node("ring-ref"));
    hostile.domain().set_state(hostile.paths(), XenbusState::Initialised);
    ASSERT_TRUE(wait_backend_state(hostile, XenbusState::Closing));
    EXPECT_TRUE(backend.logs().contains("ring-ref: missing"));
    expect_good_still_served();
}

TEST_F(TwoFrontends, RingRefGrantedToAnotherDomainIsRefused) {
    hostile.prepare();
    // A real grant of the hostile guest, but to the good guest rather than to the backend.
    const auto page = hypervisor.allocate_pages(hostile.domid(), 1).front();
    const auto ref = hypervisor.grant_access(hostile.domid(), page, good.domid(), xen::Access::ReadWrite);
    hostile.domain().write(hostile.paths(), "ring-ref", std::to_string(ref));
    hostile.domain().set_state(hostile.paths(), XenbusState::Initialised);
    ASSERT_TRUE(wait_backend_state(hostile, XenbusState::Closing));
    EXPECT_TRUE(backend.logs().contains("bind failed"));
    EXPECT_EQ(hypervisor.live_grant_mappings(), 1U);
    expect_good_still_served();
}

class GarbageState : public TwoFrontends, public ::testing::WithParamInterface<const char*> {};

TEST_P(GarbageState, ClosesThatFrontendWithLog) {
    hostile.connect(backend);
    hostile.domain().write(hostile.paths(), "state", GetParam());
    ASSERT_TRUE(wait_backend_state(hostile, XenbusState::Closing));
    EXPECT_TRUE(backend.logs().contains("refused frontend value"));
    EXPECT_EQ(hypervisor.live_grant_mappings(), 1U);
    expect_good_still_served();
}

INSTANTIATE_TEST_SUITE_P(Values, GarbageState, ::testing::Values("9", "4x", "", "-4", "04", "connected", "4\n"));

TEST_F(TwoFrontends, StateFlappingNeverLeaksMappings) {
    hostile.connect(backend);
    for (int round = 0; round < 20; ++round) {
        hostile.domain().set_state(hostile.paths(), round % 2 == 0 ? XenbusState::Initialising : XenbusState::Initialised);
        backend.settle(std::chrono::milliseconds(5));
        EXPECT_LE(hypervisor.live_grant_mappings(), 2U);
    }
    hostile.domain().set_state(hostile.paths(), XenbusState::Closing);
    ASSERT_TRUE(wait_backend_state(hostile, XenbusState::Closing));
    EXPECT_EQ(hypervisor.live_grant_mappings(), 1U);
    expect_good_still_served();
}

} // namespace
} // namespace twofold::hostile
