// Request/response ring, single-threaded: the protocol flow and what a hostile frontend can
// do to the indices.
#include <cstddef>
#include <cstdint>
#include <vector>

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

constexpr std::size_t kUnlimited = 1000;

// Answers each request with its id and the sum of its payload.
auto echo_handler(std::vector<std::uint64_t>& seen) {
    return [&seen](const Request& req, Response& rsp) noexcept {
        seen.push_back(req.id);
        rsp.id = req.id;
        rsp.status = 1;
        rsp.value = static_cast<std::int64_t>(req.payload[0]) + req.payload[5];
    };
}

struct RingPair {
    explicit RingPair(std::size_t pages = 1, std::byte fill = std::byte{0}) : shared(pages, fill), front(shared.bytes()), back(shared.bytes()) {}
    test::SharedPages shared;
    Front front;
    Back back;
};

TEST(BackRing, ProcessesQueuedRequestsInOrderAndAnswersEach) {
    RingPair rings;
    for (std::uint64_t id = 10; id < 13; ++id) {
        ASSERT_TRUE(rings.front.put_request(test::make_request(id)));
    }
    (void)rings.front.push_requests();
    std::vector<std::uint64_t> seen;

    const auto result = rings.back.process(kUnlimited, echo_handler(seen));

    EXPECT_EQ(result.processed, 3U);
    EXPECT_FALSE(result.fault.has_value());
    EXPECT_EQ(seen, (std::vector<std::uint64_t>{10, 11, 12}));
    std::optional<RingFault> fault;
    const auto first = rings.front.take_response(fault);
    ASSERT_TRUE(first.has_value());
    EXPECT_EQ(first->id, 10U);
    EXPECT_EQ(first->value, static_cast<std::int64_t>(10 * 7 + 10 * 7 + 5));
}

TEST(BackRing, RequestsWrapAroundTheRingMoreThanOnce) {
    RingPair rings;
    std::vector<std::uint64_t> seen;
    std::optional<RingFault> fault;
    const std::uint64_t total = 3 * rings.back.size() + 5;
    for (std::uint64_t id = 0; id < total; ++id) {
        ASSERT_TRUE(rings.front.put_request(test::make_request(id)));
        (void)rings.front.push_requests();
        ASSERT_EQ(rings.back.process(kUnlimited, echo_handler(seen)).processed, 1U);
        ASSERT_EQ(rings.front.take_response(fault)->id, id);
    }
    EXPECT_EQ(seen.size(), total);
    EXPECT_FALSE(fault.has_value());
}

TEST(BackRing, MultiPageRingHoldsMoreRequests) {
    RingPair rings(4);
    std::vector<std::uint64_t> seen;
    for (std::uint64_t id = 0; id < rings.back.size(); ++id) {
        ASSERT_TRUE(rings.front.put_request(test::make_request(id)));
    }
    (void)rings.front.push_requests();

    const auto result = rings.back.process(kUnlimited, echo_handler(seen));

    EXPECT_EQ(rings.back.size(), Back::entries_for(4 * test::kPage));
    EXPECT_GT(rings.back.size(), Back::entries_for(test::kPage));
    EXPECT_EQ(result.processed, rings.back.size());
}

TEST(BackRing, ResponseBytesTheHandlerDidNotWriteAreZeroIncludingPadding) {
    // 0xAA everywhere first: any byte of ours that is not zeroed would show up as 0xAA.
    test::SharedPages shared(1, std::byte{0xAA});
    Back back(shared.bytes());
    shared.write_word(sring::kReqProd, 1); // one request of 0xAA garbage in slot 0
    const auto result = back.process(kUnlimited, [](const Request&, Response& rsp) noexcept { rsp.status = 7; });

    ASSERT_EQ(result.processed, 1U);
    const auto slot = shared.bytes().subspan(Back::kRingOffset, sizeof(Response));
    for (std::size_t i = 0; i < sizeof(Response); ++i) {
        const std::byte expected = i == offsetof(Response, status) ? std::byte{7} : std::byte{0};
        EXPECT_EQ(slot[i], expected) << "response byte " << i;
    }
}

TEST(BackRing, OverflowingRequestProducerFaultsTheRing) {
    test::SharedPages shared(1);
    Back back(shared.bytes());
    shared.write_word(sring::kReqProd, back.size() + 1);
    std::vector<std::uint64_t> seen;

    const auto result = back.process(kUnlimited, echo_handler(seen));

    EXPECT_EQ(result.fault, RingFault::producer_overflow);
    EXPECT_EQ(result.processed, 0U);
    EXPECT_TRUE(seen.empty());
}

TEST(BackRing, ProducerBehindConsumerFaultsTheRing) {
    RingPair rings;
    ASSERT_TRUE(rings.front.put_request(test::make_request(1)));
    (void)rings.front.push_requests();
    std::vector<std::uint64_t> seen;
    ASSERT_EQ(rings.back.process(kUnlimited, echo_handler(seen)).processed, 1U);
    rings.shared.write_word(sring::kReqProd, 0); // moved backwards: 0 - 1 wraps to 2^32 - 1

    EXPECT_EQ(rings.back.process(kUnlimited, echo_handler(seen)).fault, RingFault::producer_overflow);
}

TEST(RequestRingCore, ProducerMovedBehindUnansweredRequestsFaults) {
    // An asynchronous backend takes requests before answering them; the guest then moves
    // req_prod back between what we answered and what we took.
    RingPair rings;
    for (std::uint64_t id = 0; id < 3; ++id) {
        ASSERT_TRUE(rings.front.put_request(test::make_request(id)));
    }
    (void)rings.front.push_requests();
    RequestRingCore core(rings.shared.bytes(), Back::kGeometry);
    ASSERT_FALSE(core.fetch_producer().has_value());
    Request request{};
    core.take_request(std::as_writable_bytes(std::span{&request, 1}));
    core.take_request(std::as_writable_bytes(std::span{&request, 1}));
    rings.shared.write_word(sring::kReqProd, 1);

    EXPECT_EQ(core.fetch_producer(), RingFault::producer_overflow);
    EXPECT_FALSE(core.request_available());
}

TEST(BackRing, RingIsNeverReadAgainAfterAFault) {
    test::SharedPages shared(1);
    Back back(shared.bytes());
    std::vector<std::uint64_t> seen;
    shared.write_word(sring::kReqProd, 0xFFFF0000U);
    ASSERT_TRUE(back.process(kUnlimited, echo_handler(seen)).fault.has_value());
    shared.write_word(sring::kReqProd, 1); // "sorry, here is a valid index"

    const auto result = back.process(kUnlimited, echo_handler(seen));

    EXPECT_EQ(result.fault, RingFault::producer_overflow);
    EXPECT_TRUE(seen.empty());
}

TEST(BackRing, FaultOnOneRingLeavesAnotherRingWorking) {
    RingPair hostile;
    RingPair honest;
    hostile.shared.write_word(sring::kReqProd, 12345);
    ASSERT_TRUE(honest.front.put_request(test::make_request(5)));
    (void)honest.front.push_requests();
    std::vector<std::uint64_t> seen;

    const auto bad = hostile.back.process(kUnlimited, echo_handler(seen));
    const auto good = honest.back.process(kUnlimited, echo_handler(seen));

    EXPECT_EQ(bad.fault, RingFault::producer_overflow);
    EXPECT_FALSE(good.fault.has_value());
    EXPECT_EQ(seen, (std::vector<std::uint64_t>{5}));
}

TEST(BackRing, FullRingIsNotAnOverflow) {
    RingPair rings;
    for (std::uint64_t id = 0; id < rings.back.size(); ++id) {
        ASSERT_TRUE(rings.front.put_request(test::make_request(id)));
    }
    EXPECT_FALSE(rings.front.put_request(test::make_request(99)));
    (void)rings.front.push_requests();
    std::vector<std::uint64_t> seen;

    const auto result = rings.back.process(kUnlimited, echo_handler(seen));

    EXPECT_FALSE(result.fault.has_value());
    EXPECT_EQ(result.processed, rings.back.size());
}

TEST(BackRing, BudgetBoundsTheWorkAndReportsMorePending) {
    RingPair rings;
    for (std::uint64_t id = 0; id < 10; ++id) {
        ASSERT_TRUE(rings.front.put_request(test::make_request(id)));
    }
    (void)rings.front.push_requests();
    std::vector<std::uint64_t> seen;

    const auto result = rings.back.process(4, echo_handler(seen));

    EXPECT_EQ(result.processed, 4U);
    EXPECT_TRUE(result.more_pending);
    EXPECT_EQ(seen.size(), 4U);
}

TEST(BackRing, LastBatchWithinBudgetReportsNothingPending) {
    RingPair rings;
    for (std::uint64_t id = 0; id < 10; ++id) {
        ASSERT_TRUE(rings.front.put_request(test::make_request(id)));
    }
    (void)rings.front.push_requests();
    std::vector<std::uint64_t> seen;
    (void)rings.back.process(4, echo_handler(seen));
    (void)rings.back.process(4, echo_handler(seen));

    const auto last = rings.back.process(4, echo_handler(seen));

    EXPECT_EQ(last.processed, 2U);
    EXPECT_FALSE(last.more_pending);
}

TEST(BackRing, ZeroBudgetProcessesNothing) {
    RingPair rings;
    ASSERT_TRUE(rings.front.put_request(test::make_request(1)));
    (void)rings.front.push_requests();
    std::vector<std::uint64_t> seen;

    const auto result = rings.back.process(0, echo_handler(seen));

    EXPECT_EQ(result.processed, 0U);
    EXPECT_TRUE(result.more_pending);
}

TEST(BackRing, FloodingFrontendCannotStarveAnotherWithBudgetedRounds) {
    // One dispatcher serving two guests in turns, as a backend process does: the flooding
    // guest keeps its ring full, the other has a single request.
    RingPair flooding;
    RingPair quiet;
    std::vector<std::uint64_t> flood_seen;
    std::vector<std::uint64_t> quiet_seen;
    std::optional<RingFault> fault;
    std::uint64_t next = 0;
    const auto refill = [&] {
        while (flooding.front.take_response(fault)) {
        }
        while (flooding.front.put_request(test::make_request(next))) {
            ++next;
        }
        (void)flooding.front.push_requests();
    };
    refill();
    ASSERT_TRUE(quiet.front.put_request(test::make_request(77)));
    (void)quiet.front.push_requests();
    constexpr std::size_t kBudget = 4;

    const auto flood_result = flooding.back.process(kBudget, echo_handler(flood_seen));
    refill();
    const auto quiet_result = quiet.back.process(kBudget, echo_handler(quiet_seen));

    EXPECT_EQ(flood_result.processed, kBudget);
    EXPECT_TRUE(flood_result.more_pending);
    EXPECT_EQ(quiet_result.processed, 1U);
    EXPECT_EQ(quiet_seen, (std::vector<std::uint64_t>{77}));
}

// Notification hold-off (req_event / rsp_event), as ring.h specifies it.

TEST(BackRingNotify, FirstRequestOnFreshRingAsksForNotification) {
    RingPair rings;
    ASSERT_TRUE(rings.front.put_request(test::make_request(1)));
    EXPECT_TRUE(rings.front.push_requests());
}

TEST(BackRingNotify, BackendArmsReqEventWhenIdleSoNextRequestNotifies) {
    RingPair rings;
    std::vector<std::uint64_t> seen;
    ASSERT_TRUE(rings.front.put_request(test::make_request(1)));
    (void)rings.front.push_requests();
    ASSERT_FALSE(rings.back.process(kUnlimited, echo_handler(seen)).more_pending);

    ASSERT_TRUE(rings.front.put_request(test::make_request(2)));
    EXPECT_EQ(rings.shared.read_word(sring::kReqEvent), 2U);
    EXPECT_TRUE(rings.front.push_requests());
}

TEST(BackRingNotify, BusyBackendDoesNotAskForNotification) {
    RingPair rings;
    std::vector<std::uint64_t> seen;
    for (std::uint64_t id = 0; id < 3; ++id) {
        ASSERT_TRUE(rings.front.put_request(test::make_request(id)));
    }
    (void)rings.front.push_requests();
    ASSERT_TRUE(rings.back.process(1, echo_handler(seen)).more_pending); // backend will come back

    ASSERT_TRUE(rings.front.put_request(test::make_request(3)));
    EXPECT_FALSE(rings.front.push_requests());
}

TEST(BackRingNotify, ResponseNotifiesFrontendWaitingOnRspEvent) {
    RingPair rings;
    std::vector<std::uint64_t> seen;
    ASSERT_TRUE(rings.front.put_request(test::make_request(1)));
    (void)rings.front.push_requests();

    EXPECT_TRUE(rings.back.process(kUnlimited, echo_handler(seen)).notify);
}

TEST(BackRingNotify, ResponseDoesNotNotifyFrontendThatHasNotReArmed) {
    RingPair rings;
    std::vector<std::uint64_t> seen;
    std::optional<RingFault> fault;
    ASSERT_TRUE(rings.front.put_request(test::make_request(1)));
    (void)rings.front.push_requests();
    (void)rings.back.process(kUnlimited, echo_handler(seen));
    ASSERT_TRUE(rings.front.take_response(fault).has_value()); // consumed, rsp_event still 1
    ASSERT_TRUE(rings.front.put_request(test::make_request(2)));
    (void)rings.front.push_requests();

    const auto result = rings.back.process(kUnlimited, echo_handler(seen));

    EXPECT_EQ(result.processed, 1U);
    EXPECT_FALSE(result.notify);
    EXPECT_TRUE(rings.front.final_check_for_responses()); // the polling frontend still finds it
}

TEST(BackRingNotify, FrontendThatReArmedIsNotifiedOfNextResponse) {
    RingPair rings;
    std::vector<std::uint64_t> seen;
    std::optional<RingFault> fault;
    ASSERT_TRUE(rings.front.put_request(test::make_request(1)));
    (void)rings.front.push_requests();
    (void)rings.back.process(kUnlimited, echo_handler(seen));
    ASSERT_TRUE(rings.front.take_response(fault).has_value());
    ASSERT_FALSE(rings.front.final_check_for_responses()); // arms rsp_event = 2
    ASSERT_TRUE(rings.front.put_request(test::make_request(2)));
    (void)rings.front.push_requests();

    EXPECT_TRUE(rings.back.process(kUnlimited, echo_handler(seen)).notify);
}

TEST(BackRingNotify, RequestArrivingAfterProcessingIsReportedPending) {
    // The backend processed everything it saw; a request pushed before its final check
    // must turn into more_pending (the lost wake-up ring.h's final check exists for).
    RingPair rings;
    std::vector<std::uint64_t> seen;
    ASSERT_TRUE(rings.front.put_request(test::make_request(1)));
    (void)rings.front.push_requests();
    bool pushed_during = false;
    const auto result = rings.back.process(kUnlimited, [&](const Request& req, Response& rsp) noexcept {
        rsp.id = req.id;
        if (!pushed_during) {
            pushed_during = rings.front.put_request(test::make_request(2));
            (void)rings.front.push_requests();
        }
    });

    EXPECT_EQ(result.processed, 1U);
    EXPECT_TRUE(result.more_pending);
}

} // namespace
} // namespace twofold::rings
