// The command policy: every command to exactly one family, reserved commands never from a
// guest, allow-lists and dial/answer permissions applied per persona.
#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <vector>
#include <string>

#include "twofold/modem/at/command.h"
#include "twofold/modem/mediator/command_policy.h"

namespace twofold::modem::mediator {
namespace {

using policy::AtFamily;

at::CommandLine parse(std::string_view text) {
  auto result = at::parse_command_line(text);
  EXPECT_TRUE(result.ok()) << text;
  return result.ok() ? result.value() : at::CommandLine{};
}

at::Command one(std::string_view text) {
  at::CommandLine line = parse(text);
  EXPECT_EQ(line.commands.size(), 1U) << text;
  return line.commands.empty() ? at::Command{} : line.commands.front();
}

PersonaRights all_rights(std::string name) {
  return {std::move(name),
          {AtFamily::call, AtFamily::sms, AtFamily::network, AtFamily::data, AtFamily::sim,
           AtFamily::supplementary, AtFamily::phonebook, AtFamily::info},
          true,
          true,
          std::nullopt};
}

struct FamilyCase {
  const char* line;
  AtFamily family;
};

class ForwardedFamily : public ::testing::TestWithParam<FamilyCase> {};

TEST_P(ForwardedFamily, MapsToItsPolicyFamily) {
  const Classification c = classify(one(GetParam().line));
  EXPECT_EQ(c.handling, Handling::kForward) << GetParam().line;
  ASSERT_TRUE(c.family.has_value()) << GetParam().line;
  EXPECT_EQ(*c.family, GetParam().family) << GetParam().line;
}

// Every forwarded command of the command table (docs/modem.md "Command classes"), in the
// forms a client uses. Forwarded means: with the ownership check its row names.
INSTANTIATE_TEST_SUITE_P(
    DocsPolicyTable, ForwardedFamily,
    ::testing::Values(
        FamilyCase{"ATD+4930123456;", AtFamily::call}, FamilyCase{"ATA", AtFamily::call},
        FamilyCase{"ATH", AtFamily::call}, FamilyCase{"AT+CHUP", AtFamily::call},
        FamilyCase{"AT+CHLD=1", AtFamily::call}, FamilyCase{"AT+CLCC", AtFamily::call},
        FamilyCase{"AT+VTS=\"1\"", AtFamily::call}, FamilyCase{"AT+CMGS=\"+4912\"", AtFamily::sms},
        FamilyCase{"AT+CMGR=1", AtFamily::sms}, FamilyCase{"AT+CMGL=\"ALL\"", AtFamily::sms},
        FamilyCase{"AT+CMGD=1", AtFamily::sms}, FamilyCase{"AT+CMGD=1,0", AtFamily::sms},
        FamilyCase{"AT+CSCA?", AtFamily::sms}, FamilyCase{"AT+COPS?", AtFamily::network},
        FamilyCase{"AT+CREG?", AtFamily::network},
        FamilyCase{"AT+CEREG?", AtFamily::network}, FamilyCase{"AT+CSQ", AtFamily::network},
        FamilyCase{"AT+CGDCONT?", AtFamily::data},
        FamilyCase{"AT+CGACT?", AtFamily::data}, FamilyCase{"AT+CGATT?", AtFamily::data},
        FamilyCase{"AT+CGPADDR=1", AtFamily::data},
        FamilyCase{"AT+CPIN?", AtFamily::sim},
        FamilyCase{"AT+CIMI", AtFamily::sim}, FamilyCase{"AT+CCID", AtFamily::sim},
        FamilyCase{"AT+CRSM=176,12258,0,0,10", AtFamily::sim},
        FamilyCase{"AT+CRSM=192,28486", AtFamily::sim},
        FamilyCase{"AT+CLIP?", AtFamily::supplementary},
        FamilyCase{"AT+CPBR=1,10", AtFamily::phonebook},
        FamilyCase{"AT+CPBW=1,\"+4912\"", AtFamily::phonebook},
        FamilyCase{"AT+CPBF=\"Bob\"", AtFamily::phonebook}, FamilyCase{"AT+CGMI", AtFamily::info},
        FamilyCase{"AT+CGMM", AtFamily::info}, FamilyCase{"AT+CGMR", AtFamily::info},
        FamilyCase{"AT+CGSN", AtFamily::info}, FamilyCase{"ATI", AtFamily::info},
        FamilyCase{"AT+CFUN?", AtFamily::network}));

class ReservedCommand : public ::testing::TestWithParam<const char*> {};

TEST_P(ReservedCommand, IsRefusedToAPersonaWithEveryRight) {
  const CommandPolicy policy(all_rights("secure"));
  EXPECT_EQ(classify(one(GetParam())).handling, Handling::kDom0Only) << GetParam();
  const auto refusal = policy.decide(one(GetParam()));
  ASSERT_TRUE(refusal.has_value()) << GetParam();
  EXPECT_EQ(refusal->reason, RefusalReason::kReservedToDom0);
}

INSTANTIATE_TEST_SUITE_P(
    ChangesTheModemForEveryone, ReservedCommand,
    ::testing::Values("AT+CFUN=0", "AT+CFUN=1,1", "AT+COPS=1,2,\"26201\"", "AT+COPS=2", "AT+COPS=?",
                      "AT+CPIN=\"1234\"", "AT+CSCA=\"+4917\"", "AT+CSCS=\"UCS2\"",
                      // Issue 13: shared settings a persona could change for both.
                      "AT+CCFC=0,3,\"+4912345\"", "AT+CCFC=0,2", "AT+CCFC=?", "AT+CGDCONT=1,\"IP\",\"internet\"",
                      "AT+CGACT=1,1", "AT+CGATT=0", "AT+CGDATA=\"PPP\",1", "AT+CUSD=1,\"*100#\"", "AT+CUSD?",
                      // Issue 13: MMI codes in a dial string act on the subscription.
                      "ATD*21*004912345#;", "ATD#21#;", "ATD**04*1234*4321*4321#;", "ATD*#21#;", "ATD*99#",
                      // Issue 13: the SIM's SMS, phonebook and last-dialled files, any raw APDU.
                      "AT+CRSM=178,28476,1,4,176", "AT+CRSM=178,28474,1,4,30", "AT+CRSM=178,28484,1,4,30",
                      "AT+CRSM=176,28476,0,0,10", "AT+CRSM=192,28476", "AT+CRSM=219,28476", "AT+CRSM=203,28476",
                      "AT+CSIM=14,\"00B2010400\"", "AT+CSIM=?",
                      "AT+CMGD=1,4", "AT+CMGD=0,1", "AT+CRSM=214,28471,0,0,3,\"ffffff\"",
                      "AT+CRSM=220,28474,1,4,2,\"0000\"", "AT^FWUPDATE", "AT%DEBUG=1", "AT$QCPWRDN",
                      "AT#REBOOT", "AT*EFLASH=1", "ATS0=1", "ATS7=60", "ATS10=1", "AT&W", "AT&Y0"));

class LocalCommand : public ::testing::TestWithParam<const char*> {};

TEST_P(LocalCommand, IsAnsweredByTheMediator) {
  EXPECT_EQ(classify(one(GetParam())).handling, Handling::kLocal) << GetParam();
}

INSTANTIATE_TEST_SUITE_P(PersonaVirtualModem, LocalCommand,
                         ::testing::Values("ATE0", "ATV1", "ATQ0", "ATZ", "AT&F", "ATS3=13", "ATS4?",
                                           "ATS5=8", "ATS0?", "ATS7=?", "AT+CMEE=2", "AT+CMEE?",
                                           "AT+CMGF=0", "AT+CNMI=2,1", "AT+CREG=2", "AT+CLIP=1",
                                           "AT+CRC=1", "AT+CEREG=1",
                                           // Issue 13: answered from the persona's own state.
                                           "AT+CMGF?", "AT+CNMI?", "AT+CPMS?", "AT+CPMS=\"SM\"", "AT+CPMS=\"ME\"",
                                           "AT+CPMS=?", "AT+CCWA=1", "AT+CCWA=1,2", "AT+CCWA?", "AT+CLIR=1",
                                           "AT+CLIR?", "AT+COLP=1", "AT+COLP?", "AT+CRSM=?"));

// Default deny: a command the table does not name is refused, in every form.
TEST(CommandPolicy, CommandsOutsideTheTableAreRefused) {
  const CommandPolicy policy(all_rights("secure"));
  for (const char* text : {"AT+CMER=3,0,0,1", "AT+CIND?", "AT+CMSS=1", "AT+CMGC=1", "AT+CSMS=1", "AT+CPOL?",
                           "AT+CLCK=\"SC\",2", "AT+CPWD=\"SC\",\"1\",\"2\"", "AT+CMEE", "AT+CHLD", "ATO", "ATX4"}) {
    EXPECT_EQ(classify(one(text)).handling, Handling::kUnknown) << text;
    const auto refusal = policy.decide(one(text));
    ASSERT_TRUE(refusal.has_value()) << text;
    EXPECT_EQ(refusal->reason, RefusalReason::kUnknownCommand) << text;
  }
}

// docs/modem.md "Command classes" is the code's table: every row, class and check text.
TEST(CommandPolicy, DocsTableMatchesTheCode) {
  std::ifstream doc(std::string(TWOFOLD_SOURCE_DIR) + "/docs/modem.md");
  ASSERT_TRUE(doc.good());
  std::vector<std::vector<std::string>> rows;
  bool in_section = false;
  for (std::string text; std::getline(doc, text);) {
    if (text.starts_with("### ")) in_section = text.starts_with("### Command classes");
    if (!in_section || !text.starts_with("| `")) continue;
    // "| a | b | ... |" -> cells (no cell holds " | ").
    std::vector<std::string> cells;
    const std::string inner = text.substr(2, text.size() - 4);
    std::size_t pos = 0;
    for (std::size_t bar; (bar = inner.find(" | ", pos)) != std::string::npos; pos = bar + 3) {
      cells.push_back(inner.substr(pos, bar - pos));
    }
    cells.push_back(inner.substr(pos));
    rows.push_back(cells);
  }
  auto word = [](Handling h) {
    switch (h) {
      case Handling::kForward: return "forwarded";
      case Handling::kLocal: return "local";
      case Handling::kDom0Only: return "dom0-only";
      case Handling::kUnknown: return "refused";
    }
    return "?";
  };
  const auto table = command_table();
  ASSERT_EQ(rows.size(), table.size());
  for (std::size_t i = 0; i < table.size(); ++i) {
    const CommandRow& row = table[i];
    ASSERT_EQ(rows[i].size(), 7U) << row.name;
    EXPECT_EQ(rows[i][0], "`" + std::string(row.name) + "`");
    EXPECT_EQ(rows[i][1], row.family ? std::string(policy::to_string(*row.family)) : "-") << row.name;
    EXPECT_EQ(rows[i][2], word(row.action)) << row.name;
    EXPECT_EQ(rows[i][3], word(row.read)) << row.name;
    EXPECT_EQ(rows[i][4], word(row.set)) << row.name;
    EXPECT_EQ(rows[i][5], word(row.test)) << row.name;
    EXPECT_EQ(rows[i][6], row.check) << row.name;
  }
}

TEST(CommandPolicy, EveryTableRowIsWellFormed) {
  std::set<std::string_view> names;
  for (const CommandRow& row : command_table()) {
    EXPECT_TRUE(names.insert(row.name).second) << "duplicate row " << row.name;
    EXPECT_FALSE(row.check.empty()) << row.name;
    const bool forwards = row.action == Handling::kForward || row.read == Handling::kForward ||
                          row.set == Handling::kForward || row.test == Handling::kForward;
    // A forwarded command always needs a family: no persona reaches the modem without one.
    if (forwards) {
      EXPECT_TRUE(row.family.has_value()) << row.name;
    }
  }
}

TEST(CommandPolicy, PhonebookStorageIsLocalButStillNeedsThePhonebookFamily) {
  for (const char* text : {"AT+CPBS?", "AT+CPBS=\"SM\"", "AT+CPBS=?"}) {
    const Classification c = classify(one(text));
    EXPECT_EQ(c.handling, Handling::kLocal) << text;
    EXPECT_EQ(c.family, AtFamily::phonebook) << text;
  }
  PersonaRights no_phonebook = all_rights("secure");
  no_phonebook.families.erase(AtFamily::phonebook);
  const auto refusal = CommandPolicy(no_phonebook).decide(one("AT+CPBS?"));
  ASSERT_TRUE(refusal.has_value());
  EXPECT_EQ(refusal->reason, RefusalReason::kFamilyNotAllowed);
}

TEST(CommandPolicy, UnknownCommandsAreRefusedAsUnknown) {
  const CommandPolicy policy(all_rights("secure"));
  for (const char* text : {"AT+NOPE", "AT+CMGX=1", "ATX4", "AT&C1", "AT+CGMI2"}) {
    const auto refusal = policy.decide(one(text));
    ASSERT_TRUE(refusal.has_value()) << text;
    EXPECT_EQ(refusal->reason, RefusalReason::kUnknownCommand) << text;
  }
}

TEST(CommandPolicy, FamilyOutsideTheAllowListIsRefusedWithItsFamily) {
  const CommandPolicy policy(PersonaRights{"personal", {AtFamily::info, AtFamily::network}, false, false, std::nullopt});
  const auto refusal = policy.decide(one("AT+CMGL=4"));
  ASSERT_TRUE(refusal.has_value());
  EXPECT_EQ(refusal->reason, RefusalReason::kFamilyNotAllowed);
  EXPECT_EQ(refusal->family, AtFamily::sms);
  EXPECT_FALSE(policy.decide(one("AT+CSQ")).has_value());
}

TEST(CommandPolicy, LocalSettingsOfAFamilyNeedThatFamily) {
  const CommandPolicy policy(PersonaRights{"personal", {AtFamily::info}, false, false, std::nullopt});
  const auto refusal = policy.decide(one("AT+CNMI=2,1"));
  ASSERT_TRUE(refusal.has_value());
  EXPECT_EQ(refusal->reason, RefusalReason::kFamilyNotAllowed);
  EXPECT_FALSE(policy.decide(one("ATE0")).has_value());
}

TEST(CommandPolicy, DialNeedsTheDialPermission) {
  const CommandPolicy policy(PersonaRights{"personal", {AtFamily::call}, false, true, std::nullopt});
  const auto refusal = policy.decide(one("ATD+4930123456;"));
  ASSERT_TRUE(refusal.has_value());
  EXPECT_EQ(refusal->reason, RefusalReason::kDialNotAllowed);
  EXPECT_FALSE(policy.decide(one("ATA")).has_value());
}

TEST(CommandPolicy, AnswerNeedsTheAnswerPermission) {
  const CommandPolicy policy(PersonaRights{"personal", {AtFamily::call}, true, false, std::nullopt});
  const auto refusal = policy.decide(one("ATA"));
  ASSERT_TRUE(refusal.has_value());
  EXPECT_EQ(refusal->reason, RefusalReason::kAnswerNotAllowed);
  EXPECT_FALSE(policy.decide(one("ATD+4930123456;")).has_value());
}

// A circuit-switched data call would put the one AT line into data mode: dom0's, even to a
// persona with the data family.
TEST(CommandPolicy, DataCallIsDom0Only) {
  const CommandPolicy policy(all_rights("personal"));
  const auto refusal = policy.decide(one("ATD+4930123456"));
  ASSERT_TRUE(refusal.has_value());
  EXPECT_EQ(refusal->reason, RefusalReason::kReservedToDom0);
}

TEST(CommandPolicy, CompoundLineIsRefusedWholeAtItsFirstRefusedCommand) {
  const CommandPolicy policy(PersonaRights{"personal", {AtFamily::info, AtFamily::network}, false, false, std::nullopt});
  const LineVerdict verdict = policy.decide(parse("AT+CGMI;+CSQ;+CFUN=0;+CMGL"));
  ASSERT_FALSE(verdict.allowed());
  EXPECT_EQ(verdict.refusal->command_index, 2U);
  EXPECT_EQ(verdict.refusal->reason, RefusalReason::kReservedToDom0);
  EXPECT_FALSE(verdict.all_local);
}

TEST(CommandPolicy, LineOfLocalCommandsIsAnsweredWithoutTheModem) {
  const CommandPolicy policy(all_rights("secure"));
  EXPECT_TRUE(policy.decide(parse("ATE0V1")).all_local);
  EXPECT_TRUE(policy.decide(parse("AT")).all_local);
  const LineVerdict mixed = policy.decide(parse("ATE0+CSQ"));
  EXPECT_TRUE(mixed.allowed());
  EXPECT_FALSE(mixed.all_local);
}

TEST(CommandPolicy, RightsComeFromThePersonaModemTable) {
  policy::Persona persona;
  persona.name.value = "secure";
  EXPECT_FALSE(PersonaRights::from_policy(persona).has_value());
  persona.modem = policy::PersonaModem{};
  persona.modem->at_families.value = {AtFamily::call};
  persona.modem->dial.value = true;
  const auto rights = PersonaRights::from_policy(persona);
  ASSERT_TRUE(rights.has_value());
  EXPECT_EQ(rights->name, "secure");
  EXPECT_TRUE(rights->dial);
  EXPECT_FALSE(rights->answer);
  EXPECT_EQ(rights->families, std::set<AtFamily>{AtFamily::call});
}

TEST(RefusalResult, FollowsThePersonasCmeeSetting) {
  EXPECT_EQ(refusal_result(RefusalReason::kReservedToDom0, ErrorFormat::kPlain), "ERROR");
  EXPECT_EQ(refusal_result(RefusalReason::kReservedToDom0, ErrorFormat::kNumeric), "+CME ERROR: 3");
  EXPECT_EQ(refusal_result(RefusalReason::kFamilyNotAllowed, ErrorFormat::kVerbose),
            "+CME ERROR: operation not allowed");
  EXPECT_EQ(refusal_result(RefusalReason::kUnknownCommand, ErrorFormat::kPlain), "ERROR");
  EXPECT_EQ(refusal_result(RefusalReason::kUnknownCommand, ErrorFormat::kVerbose),
            "+CME ERROR: operation not supported");
}

}  // namespace
}  // namespace twofold::modem::mediator
