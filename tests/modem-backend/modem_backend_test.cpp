// twofold-modem-backend's core on the loopback, as the manager runs it: two hvc_xen consoles,
// the simulator on its unix socket, the focus link.
#include "backend_fixture.h"

namespace twofold::modem::backend::testing {
namespace {

using ModemBackendTest = ModemBackendFixture;

TEST_F(ModemBackendTest, BackendSaysHelloHoldingModemAudio) {
  backend_->start();
  ASSERT_TRUE(run_until([&] { return !received_of<focus::Hello>().empty(); }));
  const auto hello = received_of<focus::Hello>().front();
  EXPECT_EQ(hello.backend, "modem");
  EXPECT_EQ(hello.holds, std::vector<focus::Holder>{focus::Holder::ModemAudio});
}

TEST_F(ModemBackendTest, SecureDialsAndThePersonalPersonaSeesNothingOfIt) {
  start_with_both_personas();
  personal.received().clear();
  EXPECT_EQ(command(secure, "ATD+4930123456;"), "\r\nOK\r\n");
  const std::string listing = command(secure, "AT+CLCC");
  EXPECT_NE(listing.find("+CLCC: 1,0,3,0,0,\"+4930123456\",145"), std::string::npos) << listing;
  settle();
  EXPECT_EQ(personal.received(), "");
  EXPECT_EQ(command(personal, "AT+CLCC"), "\r\nOK\r\n");
  const auto audits = received_of<focus::AuditEvent>();
  ASSERT_FALSE(audits.empty());
  EXPECT_EQ(audits.back().event, "modem.call");
  EXPECT_EQ(audits.back().fields["persona"], "secure");
  EXPECT_EQ(audits.back().fields["number"], "+4930123456");
}

TEST_F(ModemBackendTest, RefusedCommandIsAnsweredErrorAndAuditedOverTheFocusLink) {
  start_with_both_personas();
  EXPECT_EQ(command(personal, "AT+CFUN=0"), "\r\nERROR\r\n");
  ASSERT_TRUE(run_until([&] { return !received_of<focus::AuditEvent>().empty(); }));
  const auto audit = received_of<focus::AuditEvent>().back();
  EXPECT_EQ(audit.event, "modem.refuse");
  EXPECT_EQ(audit.fields["persona"], "personal");
  EXPECT_EQ(audit.fields["command"], "+CFUN");
  EXPECT_EQ(audit.fields["reason"], "reserved-to-dom0");
  EXPECT_EQ(simulator_->modem().state()["cfun"], 1);
}

TEST_F(ModemBackendTest, FocusOrderIsAppliedThenAckedAndIncomingCallsFollowIt) {
  start_with_both_personas();
  // The personal persona asks for caller ids; the secure one may not (+CLIP is family
  // supplementary, not in its policy) and gets RING alone.
  ASSERT_EQ(command(personal, "AT+CLIP=1"), "\r\nOK\r\n");
  send_to_backend(focus::Focus{"secure", 7});
  ASSERT_TRUE(run_until([&] { return !received_of<focus::Ack>().empty(); }));
  EXPECT_EQ(received_of<focus::Ack>().back().epoch, 7U);
  EXPECT_EQ(backend_->foreground(), std::optional<mediator::PersonaIndex>(1));

  personal.received().clear();
  secure.received().clear();
  ASSERT_FALSE(simulator_->modem().incoming_call("+4940111").has_value());
  ASSERT_TRUE(run_until([&] { return secure.received().find("\r\nRING\r\n") != std::string::npos; }));
  settle();
  EXPECT_EQ(secure.received().find("+CLIP"), std::string::npos);
  EXPECT_EQ(personal.received(), "");
  const auto audits = received_of<focus::AuditEvent>();
  ASSERT_FALSE(audits.empty());
  EXPECT_EQ(audits.back().event, "modem.call");
  EXPECT_EQ(audits.back().fields["persona"], "secure");
  EXPECT_EQ(audits.back().fields["direction"], "incoming");
}

TEST_F(ModemBackendTest, FocusOrderForAPersonaWithoutModemIsAckedAndChangesNothing) {
  start_with_both_personas();
  send_to_backend(focus::Focus{"secure", 3});
  send_to_backend(focus::Focus{"guest-without-modem", 4});
  ASSERT_TRUE(run_until([&] { return received_of<focus::Ack>().size() == 2; }));
  EXPECT_EQ(backend_->foreground(), std::optional<mediator::PersonaIndex>(1));
}

TEST_F(ModemBackendTest, ManagerClosingTheFocusLinkEndsTheBackendCleanly) {
  start_with_both_personas();
  close_manager_end();
  ASSERT_TRUE(run_until([&] { return backend_->io().stopped(); }));
  EXPECT_EQ(backend_->exit_code(), 0);
}

TEST_F(ModemBackendTest, PrimaryConsoleAndStrangerDomainsAreNotServed) {
  backend_->start();
  HvcFront primary{hv, toolstack, "other-primary", 0};
  HvcFront stranger{hv, toolstack, "stranger"};
  HvcFront not_modem{hv, toolstack, "personal-lookalike"};
  primary.plumb();
  primary.start();
  stranger.plumb();
  stranger.start();
  ASSERT_TRUE(connect(secure));
  settle(std::chrono::milliseconds(200));
  EXPECT_EQ(primary.backend_state(), "1");  // untouched: xenconsoled's, not ours
  EXPECT_EQ(stranger.backend_state(), "1");
  EXPECT_EQ(hv.live_grant_mappings(), 1U);  // the secure persona's page only
}

TEST_F(ModemBackendTest, ConsoleNotNamedModemIsNotServed) {
  backend_->start();
  personal.plumb("log");
  personal.start();
  settle(std::chrono::milliseconds(200));
  EXPECT_EQ(personal.backend_state(), "1");
  EXPECT_EQ(hv.live_grant_mappings(), 0U);
}

}  // namespace
}  // namespace twofold::modem::backend::testing
