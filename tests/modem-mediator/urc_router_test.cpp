// Unsolicited codes go where they belong; the other persona is never told.
#include <gtest/gtest.h>

#include "twofold/modem/at/response.h"
#include "twofold/modem/mediator/urc_router.h"

namespace twofold::modem::mediator {
namespace {

constexpr PersonaIndex kPersonal = 0;
constexpr PersonaIndex kSecure = 1;

class CollectingSink : public AuditSink {
 public:
  void record(audit::Event event) override { events.push_back(std::move(event)); }
  std::vector<audit::Event> events;
};

policy::Modem modem_policy(bool slot2_to_secure, policy::RouteTarget fallback, bool line_to_secure = true) {
  policy::Modem m;
  m.number_logging.value = policy::NumberLogging::clear;
  m.incoming_default.value = std::move(fallback);
  if (slot2_to_secure) {
    policy::IncomingRoute r;
    r.sim_slot = policy::Located<std::uint8_t>{2, {}};
    r.to.value = policy::RouteTarget{false, "secure"};
    m.routes.push_back(r);
  }
  if (line_to_secure) {
    policy::IncomingRoute line;
    line.called_line = policy::Located<std::string>{"+4930555", {}};
    line.to.value = policy::RouteTarget{false, "secure"};
    m.routes.push_back(line);
  }
  return m;
}

const std::vector<std::string> kNames = {"personal", "secure"};

at::ResponseLine urc(std::string_view text, std::optional<std::string> body = {}) {
  at::ResponseLine line = at::classify_response_line(text, at::ResponseContext{});
  line.body = std::move(body);
  return line;
}

TEST(IncomingRouter, FirstMatchingRouteWinsElseDefault) {
  const IncomingRouter r(modem_policy(true, policy::RouteTarget{true, {}}), kNames);
  EXPECT_EQ(r.route(IncomingContext{2, {}}, kPersonal), kSecure);
  EXPECT_EQ(r.route(IncomingContext{1, {}}, kPersonal), kPersonal);  // foreground
  EXPECT_EQ(r.route(IncomingContext{1, {}}, kSecure), kSecure);
  EXPECT_EQ(r.route(IncomingContext{1, "+4930555"}, kPersonal), kSecure);
  EXPECT_EQ(r.route(IncomingContext{1, "+4930556"}, kPersonal), kPersonal);
}

TEST(IncomingRouter, NamedDefaultIgnoresTheForeground) {
  const IncomingRouter r(modem_policy(false, policy::RouteTarget{false, "secure"}), kNames);
  EXPECT_EQ(r.route(IncomingContext{1, {}}, kPersonal), kSecure);
}

TEST(IncomingRouter, RouteToUnknownPersonaIsRefused) {
  EXPECT_THROW(IncomingRouter(modem_policy(false, policy::RouteTarget{false, "work"}), kNames),
               std::invalid_argument);
}

class Routing : public ::testing::Test {
 protected:
  Routing()
      : reporter_(sink_, NumberRedactor(policy::NumberLogging::clear, {})),
        router_(IncomingRouter(modem_policy(true, policy::RouteTarget{true, {}}, false), kNames), state_, reporter_,
                kNames) {}
  CollectingSink sink_;
  AuditReporter reporter_;
  StateFilter state_{2};
  UrcRouter router_;
};

// With a route by called line, a new call is routed when +CDIP names the line.
class RoutingByCalledLine : public ::testing::Test {
 protected:
  RoutingByCalledLine()
      : reporter_(sink_, NumberRedactor(policy::NumberLogging::clear, {})),
        router_(IncomingRouter(modem_policy(false, policy::RouteTarget{true, {}}), kNames), state_, reporter_,
                kNames) {}
  CollectingSink sink_;
  AuditReporter reporter_;
  StateFilter state_{2};
  UrcRouter router_;
};

TEST_F(RoutingByCalledLine, RingIsHeldUntilCdipNamesTheLine) {
  EXPECT_EQ(router_.route(urc("RING"), kPersonal), std::vector<Delivery>{});
  EXPECT_EQ(router_.route(urc("+CLIP: \"+4930111\",145"), kPersonal), std::vector<Delivery>{});
  EXPECT_TRUE(router_.holding());
  EXPECT_EQ(router_.route(urc("+CDIP: \"+4930555\",145"), kPersonal),
            (std::vector<Delivery>{{kSecure, "RING"}, {kSecure, "+CLIP: \"+4930111\",145"}}));
  EXPECT_FALSE(router_.holding());
  // The next ring goes to the routed persona once its +CLIP shows it is the same call;
  // +CDIP itself reaches nobody.
  EXPECT_EQ(router_.route(urc("RING"), kPersonal), std::vector<Delivery>{});
  EXPECT_EQ(router_.route(urc("+CLIP: \"+4930111\",145"), kPersonal),
            (std::vector<Delivery>{{kSecure, "RING"}, {kSecure, "+CLIP: \"+4930111\",145"}}));
  EXPECT_EQ(router_.route(urc("+CDIP: \"+4930555\",145"), kPersonal), std::vector<Delivery>{});
  ASSERT_EQ(sink_.events.size(), 1U);
  EXPECT_EQ(sink_.events[0].persona, "secure");
}

TEST_F(RoutingByCalledLine, HeldCallWithoutCdipIsReleasedToTheDefault) {
  EXPECT_EQ(router_.route(urc("RING"), kSecure), std::vector<Delivery>{});
  EXPECT_EQ(router_.release_held(kPersonal, IncomingContext{}), (std::vector<Delivery>{{kPersonal, "RING"}}));
  EXPECT_FALSE(router_.holding());
}

TEST_F(RoutingByCalledLine, HeldCodesAreBounded) {
  for (int i = 0; i < 100; ++i) (void)router_.route(urc("RING"), kPersonal);
  EXPECT_EQ(router_.release_held(kPersonal, IncomingContext{}).size(), UrcRouter::kMaxHeld);
}

TEST_F(Routing, NetworkStatusGoesToBoth) {
  const auto out = router_.route(urc("+CREG: 1"), kPersonal);
  EXPECT_EQ(out, (std::vector<Delivery>{{kPersonal, "+CREG: 1"}, {kSecure, "+CREG: 1"}}));
}

TEST_F(Routing, IncomingCallRingsOnlyAtTheRoutedPersonaEvenAfterASwitch) {
  EXPECT_EQ(router_.route(urc("RING"), kSecure), (std::vector<Delivery>{{kSecure, "RING"}}));
  // The foreground changes while it rings: the call stays where it was routed.
  EXPECT_EQ(router_.route(urc("+CLIP: \"+4930111\",145"), kPersonal),
            (std::vector<Delivery>{{kSecure, "+CLIP: \"+4930111\",145"}}));
  // A further RING waits for its +CLIP: the same caller, so the same call.
  EXPECT_EQ(router_.route(urc("RING"), kPersonal), std::vector<Delivery>{});
  EXPECT_EQ(router_.route(urc("+CLIP: \"+4930111\",145"), kPersonal),
            (std::vector<Delivery>{{kSecure, "RING"}, {kSecure, "+CLIP: \"+4930111\",145"}}));
  ASSERT_EQ(sink_.events.size(), 1U);  // one call, one record
  EXPECT_EQ(sink_.events[0].kind, "modem.call");
  EXPECT_EQ(sink_.events[0].persona, "secure");
  EXPECT_EQ(sink_.events[0].fields["number"], "+4930111");
}

// Issue 13: the call routed to secure was abandoned without NO CARRIER; the next caller's
// RING and +CLIP are routed afresh (to the foreground, personal), none of it to secure.
TEST_F(Routing, AnotherCallersRingIsRoutedAfresh) {
  (void)router_.route(urc("RING"), kSecure);
  (void)router_.route(urc("+CLIP: \"+4930111\",145"), kSecure);
  EXPECT_EQ(router_.route(urc("RING"), kPersonal), std::vector<Delivery>{});
  EXPECT_EQ(router_.route(urc("+CLIP: \"+4930222\",145"), kPersonal),
            (std::vector<Delivery>{{kPersonal, "RING"}, {kPersonal, "+CLIP: \"+4930222\",145"}}));
  EXPECT_TRUE(router_.take_new_call());
}

TEST_F(Routing, IncomingCallOnSlotTwoGoesToSecure) {
  EXPECT_EQ(router_.route(urc("RING"), kPersonal, IncomingContext{2, {}}),
            (std::vector<Delivery>{{kSecure, "RING"}}));
}

TEST_F(Routing, StoredSmsIsClaimedAndRenumberedForItsPersona) {
  state_.claim_message(kPersonal, 1);
  const auto out = router_.route(urc("+CMTI: \"SM\",2"), kSecure);
  EXPECT_EQ(out, (std::vector<Delivery>{{kSecure, "+CMTI: \"SM\",1"}}));
  EXPECT_EQ(state_.messages().owner(2), kSecure);
  ASSERT_EQ(sink_.events.size(), 1U);
  EXPECT_EQ(sink_.events[0].kind, "modem.sms");
}

TEST_F(Routing, DirectSmsGoesWithItsBodyToOnePersona) {
  const auto out = router_.route(urc("+CMT: \"+4930111\",,\"26/11/21,10:00:00+04\"", "hi"), kPersonal);
  EXPECT_EQ(out, (std::vector<Delivery>{{kPersonal, "+CMT: \"+4930111\",,\"26/11/21,10:00:00+04\"\r\nhi"}}));
}

TEST_F(Routing, MalformedCmtiIsDropped) {
  EXPECT_TRUE(router_.route(urc("+CMTI: \"SM\""), kPersonal).empty());
  EXPECT_TRUE(router_.route(urc("+CMTI: \"SM\",\"x\""), kPersonal).empty());
}

TEST_F(Routing, RemoteHangupReachesOnlyThePersonaOnTheLine) {
  state_.note_dial(kSecure);
  EXPECT_EQ(router_.route(urc("NO CARRIER"), kPersonal), (std::vector<Delivery>{{kSecure, "NO CARRIER"}}));
}

// Issue 13: +CUSD went to whoever had sent +CUSD last. USSD is dom0's now (the command
// table), so a +CUSD names no persona and reaches nobody; nor do indicators (+CIEV).
TEST_F(Routing, UssdIndicatorsAndUnknownCodesReachNobody) {
  EXPECT_TRUE(router_.route(urc("+CUSD: 0,\"Balance 5\",15"), kPersonal).empty());
  EXPECT_TRUE(router_.route(urc("+CUSD: 1,\"Menu\",15"), kSecure).empty());
  EXPECT_TRUE(router_.route(urc("+CIEV: 2,1"), kPersonal).empty());
  EXPECT_TRUE(router_.route(urc("+CDSI: \"SM\",3"), kPersonal).empty());
}

}  // namespace
}  // namespace twofold::modem::mediator
