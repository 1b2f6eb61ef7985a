// One command in flight, bounded queues, round-robin with the stated bound.
#include <gtest/gtest.h>

#include <string>

#include "twofold/modem/mediator/arbiter.h"

namespace twofold::modem::mediator {
namespace {

using Clock = std::chrono::steady_clock;
const Clock::time_point kT0{};
const Clock::time_point kDeadline = kT0 + std::chrono::seconds(5);

TEST(Arbiter, OnlyOneJobInFlight) {
  Arbiter<std::string> a(2, 4);
  ASSERT_TRUE(a.enqueue(0, "p1"));
  ASSERT_TRUE(a.enqueue(1, "s1"));
  ASSERT_NE(a.start_next(kDeadline), nullptr);
  EXPECT_EQ(a.start_next(kDeadline), nullptr);
  a.finish();
  EXPECT_NE(a.start_next(kDeadline), nullptr);
}

TEST(Arbiter, FloodingPersonaDelaysTheOtherByAtMostOneJob) {
  Arbiter<std::string> a(2, 8);
  for (int i = 0; i < 8; ++i) ASSERT_TRUE(a.enqueue(0, "flood" + std::to_string(i)));
  EXPECT_FALSE(a.enqueue(0, "overflow"));  // its own queue is full, nobody else's
  ASSERT_EQ(*a.start_next(kDeadline), "flood0");
  // The secure persona queues while the flood's first job is in flight ...
  ASSERT_TRUE(a.enqueue(1, "secure"));
  a.finish();
  // ... and is next: one job (the one in flight) was the whole delay.
  EXPECT_EQ(*a.start_next(kDeadline), "secure");
  EXPECT_EQ(a.in_flight_persona(), 1U);
  a.finish();
  EXPECT_EQ(*a.start_next(kDeadline), "flood1");
}

TEST(Arbiter, RoundRobinAlternatesWhileBothHaveWork) {
  Arbiter<std::string> a(2, 8);
  for (int i = 0; i < 3; ++i) {
    a.enqueue(0, "p" + std::to_string(i));
    a.enqueue(1, "s" + std::to_string(i));
  }
  std::string order;
  while (auto* job = a.start_next(kDeadline)) {
    order += *job + " ";
    a.finish();
  }
  EXPECT_EQ(order, "s0 p0 s1 p1 s2 p2 ");
}

TEST(Arbiter, HousekeepingGoesFirstAndIsBounded) {
  Arbiter<std::string> a(2, 4);
  a.enqueue(0, "p");
  EXPECT_TRUE(a.enqueue_housekeeping("clcc"));
  EXPECT_TRUE(a.enqueue_housekeeping("init", true));
  EXPECT_EQ(*a.start_next(kDeadline), "init");
  EXPECT_EQ(a.in_flight_persona(), std::nullopt);
  a.finish();
  EXPECT_EQ(*a.start_next(kDeadline), "clcc");
  a.finish();
  EXPECT_EQ(*a.start_next(kDeadline), "p");
  for (std::size_t i = 0; i < kMaxHousekeeping; ++i) EXPECT_TRUE(a.enqueue_housekeeping("x"));
  EXPECT_FALSE(a.enqueue_housekeeping("x"));
}

TEST(Arbiter, DeadlineExpiresOnlyWhileInFlight) {
  Arbiter<std::string> a(2, 4);
  EXPECT_FALSE(a.expired(kDeadline + std::chrono::hours(1)));
  a.enqueue(1, "s");
  a.start_next(kDeadline);
  EXPECT_FALSE(a.expired(kDeadline - std::chrono::milliseconds(1)));
  EXPECT_TRUE(a.expired(kDeadline));
  a.extend(kDeadline + std::chrono::seconds(1));
  EXPECT_FALSE(a.expired(kDeadline));
  EXPECT_EQ(a.finish(), "s");
  EXPECT_FALSE(a.expired(kDeadline + std::chrono::hours(1)));
}

TEST(Arbiter, QueuedJobsSurviveAnAbandonedInFlightJob) {
  Arbiter<std::string> a(2, 4);
  a.enqueue(0, "p0");
  a.enqueue(0, "p1");
  a.start_next(kDeadline);
  EXPECT_EQ(a.finish(), "p0");  // e.g. the modem stopped answering
  EXPECT_EQ(a.queued(0), 1U);
  EXPECT_EQ(*a.start_next(kDeadline), "p1");
}

TEST(Arbiter, UnknownPersonaIsRefused) {
  Arbiter<std::string> a(2, 4);
  EXPECT_FALSE(a.enqueue(2, "x"));
  EXPECT_FALSE(a.has_room(2));
}

}  // namespace
}  // namespace twofold::modem::mediator
