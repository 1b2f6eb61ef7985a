// Per-persona phonebooks on the one SIM phonebook, and incoming calls routed by the called
// line (+CDIP), with the simulated modem.
#include <gtest/gtest.h>

#include <string>

#include "mediator_harness.h"

namespace twofold::modem::mediator::testing {
namespace {

using policy::AtFamily;

MediatorConfig phonebook_config(bool secure_has_phonebook = true) {
  MediatorConfig c = default_config();
  c.personas[kPersonal].families.insert(AtFamily::phonebook);
  if (secure_has_phonebook) c.personas[kSecure].families.insert(AtFamily::phonebook);
  return c;
}

class Phonebook : public ::testing::Test {
 protected:
  void SetUp() override {
    for (PersonaIndex p : {kPersonal, kSecure}) ASSERT_EQ(h.command(p, "ATE0"), "ATE0\r\r\nOK\r\n");
  }
  Harness h{phonebook_config()};
};

TEST_F(Phonebook, EachPersonaReadsOnlyItsOwnEntriesUnderItsOwnIndices) {
  ASSERT_EQ(h.command(kPersonal, "AT+CPBW=1,\"+4911111\",145,\"Ann\""), "\r\nOK\r\n");
  ASSERT_EQ(h.command(kSecure, "AT+CPBW=1,\"+4922222\",145,\"Bob\""), "\r\nOK\r\n");
  EXPECT_EQ(h.command(kPersonal, "AT+CPBR=1,10"), "\r\n+CPBR: 1,\"+4911111\",145,\"Ann\"\r\n\r\nOK\r\n");
  EXPECT_EQ(h.command(kSecure, "AT+CPBR=1,10"), "\r\n+CPBR: 1,\"+4922222\",145,\"Bob\"\r\n\r\nOK\r\n");
  // On the SIM they are two different slots.
  EXPECT_EQ(h.modem.state()["phonebook"].size(), 2U);
}

TEST_F(Phonebook, EntriesNoPersonaWroteAreShownToNobody) {
  // dom0's (or the SIM's) own contact in slot 1.
  h.modem.receive("AT+CPBW=1,\"+4900000\",145,\"Dom0\"\r");
  h.run();
  EXPECT_EQ(h.command(kPersonal, "AT+CPBR=1,50"), "\r\nOK\r\n");
  EXPECT_EQ(h.command(kSecure, "AT+CPBF=\"Dom\""), "\r\nOK\r\n");
  // Writing "index 1" creates the persona's own entry elsewhere; dom0's stays untouched.
  ASSERT_EQ(h.command(kPersonal, "AT+CPBW=1,\"+4911111\",145,\"Ann\""), "\r\nOK\r\n");
  const auto book = h.modem.state()["phonebook"];
  ASSERT_EQ(book.size(), 2U);
  EXPECT_EQ(book[0]["text"], "Dom0");
}

TEST_F(Phonebook, FindListsOnlyOwnMatches) {
  ASSERT_EQ(h.command(kPersonal, "AT+CPBW=3,\"+4911111\",145,\"Sam P\""), "\r\nOK\r\n");
  ASSERT_EQ(h.command(kSecure, "AT+CPBW=,\"+4922222\",145,\"Sam S\""), "\r\n+CPBW: 1\r\n\r\nOK\r\n");
  EXPECT_EQ(h.command(kSecure, "AT+CPBF=\"Sam\""), "\r\n+CPBF: 1,\"+4922222\",145,\"Sam S\"\r\n\r\nOK\r\n");
  EXPECT_EQ(h.command(kPersonal, "AT+CPBF=\"Sam\""), "\r\n+CPBF: 3,\"+4911111\",145,\"Sam P\"\r\n\r\nOK\r\n");
}

TEST_F(Phonebook, DeletingAnIndexNeverReachesTheOtherPersonasEntry) {
  ASSERT_EQ(h.command(kSecure, "AT+CPBW=1,\"+4922222\",145,\"Bob\""), "\r\nOK\r\n");
  // The personal persona has no entry 1: nothing is sent, the secure entry stays.
  EXPECT_EQ(h.command(kPersonal, "AT+CPBW=1"), "\r\nOK\r\n");
  EXPECT_EQ(h.modem.state()["phonebook"].size(), 1U);
  EXPECT_EQ(h.command(kSecure, "AT+CPBW=1"), "\r\nOK\r\n");
  EXPECT_EQ(h.modem.state()["phonebook"].size(), 0U);
  EXPECT_EQ(h.command(kSecure, "AT+CPBR=1"), "\r\nOK\r\n");
}

TEST_F(Phonebook, StorageIsAlwaysTheSimsAndCallListsAreRefused) {
  EXPECT_EQ(h.command(kPersonal, "AT+CPBS?"), "\r\n+CPBS: \"SM\"\r\n\r\nOK\r\n");
  EXPECT_EQ(h.command(kPersonal, "AT+CPBS=\"SM\""), "\r\nOK\r\n");
  // "LD"/"MC"/"RC" list calls of both personas.
  EXPECT_EQ(h.command(kPersonal, "AT+CPBS=\"MC\""), "\r\nERROR\r\n");
  EXPECT_EQ(h.command(kPersonal, "AT+CPBR=0"), "\r\nERROR\r\n");
  EXPECT_EQ(h.command(kPersonal, "AT+CPBR=251"), "\r\nERROR\r\n");
  ASSERT_EQ(h.command(kPersonal, "AT+CMEE=1"), "\r\nOK\r\n");
  EXPECT_EQ(h.command(kPersonal, "AT+CPBR=0"), "\r\n+CME ERROR: 21\r\n");
}

TEST_F(Phonebook, TestFormShowsTheVisibleRange) {
  EXPECT_EQ(h.command(kSecure, "AT+CPBR=?"), "\r\n+CPBR: (1-50),40,18\r\n\r\nOK\r\n");
}

TEST(PhonebookByPolicy, PersonaWithoutTheFamilyHasNoPhonebook) {
  Harness h(phonebook_config(/*secure_has_phonebook=*/false));
  ASSERT_EQ(h.command(kSecure, "ATE0"), "ATE0\r\r\nOK\r\n");
  EXPECT_EQ(h.command(kSecure, "AT+CPBR=1,10"), "\r\nERROR\r\n");
  EXPECT_EQ(h.command(kSecure, "AT+CPBS?"), "\r\nERROR\r\n");
  EXPECT_EQ(h.audit.count("modem.refuse"), 2U);
}

MediatorConfig called_line_config() {
  MediatorConfig c = default_config();  // foreground by default; SIM slot 2 to secure
  policy::IncomingRoute& line = c.modem_policy.routes.emplace_back();
  line.called_line = policy::Located<std::string>{"+4930555000", {}};
  line.to.value = policy::RouteTarget{false, "secure"};
  return c;
}

class CalledLine : public ::testing::Test {
 protected:
  void SetUp() override {
    for (PersonaIndex p : {kPersonal, kSecure}) {
      ASSERT_EQ(h.command(p, "ATE0"), "ATE0\r\r\nOK\r\n");
      ASSERT_EQ(h.command(p, "AT+CLIP=1"), "\r\nOK\r\n");
    }
    h.mediator().set_foreground(kPersonal);
  }
  Harness h{called_line_config()};
};

TEST_F(CalledLine, CallToTheRoutedLineRingsOnlyAtItsPersona) {
  ASSERT_FALSE(h.modem.incoming_call("+4940111", "+4930555000").has_value());
  h.run();
  EXPECT_EQ(h.take(kSecure), "\r\nRING\r\n\r\n+CLIP: \"+4940111\",145\r\n");
  EXPECT_EQ(h.take(kPersonal), "");
  EXPECT_EQ(h.command(kPersonal, "ATA"), "\r\nNO CARRIER\r\n");  // no call rings for it
  EXPECT_EQ(h.command(kSecure, "ATA"), "\r\nOK\r\n");
  ASSERT_EQ(h.audit.count("modem.call"), 1U);
  EXPECT_EQ(h.audit.events.back().persona, "secure");
}

TEST_F(CalledLine, CallToAnotherLineFollowsTheDefault) {
  ASSERT_FALSE(h.modem.incoming_call("+4940111", "+4930555999").has_value());
  h.run();
  EXPECT_EQ(h.take(kPersonal), "\r\nRING\r\n\r\n+CLIP: \"+4940111\",145\r\n");
  EXPECT_EQ(h.take(kSecure), "");
}

TEST_F(CalledLine, CallWithoutCalledLineIsRoutedAfterTheWaitAndNobodyHearsItBefore) {
  ASSERT_FALSE(h.modem.incoming_call("+4940111").has_value());
  h.run();
  EXPECT_EQ(h.take(kPersonal), "");
  EXPECT_EQ(h.take(kSecure), "");
  h.advance(std::chrono::milliseconds(1000));
  EXPECT_EQ(h.take(kPersonal), "\r\nRING\r\n\r\n+CLIP: \"+4940111\",145\r\n");
  EXPECT_EQ(h.take(kSecure), "");
}

}  // namespace
}  // namespace twofold::modem::mediator::testing
