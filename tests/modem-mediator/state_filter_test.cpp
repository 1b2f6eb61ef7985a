// Each persona sees only its own calls and messages, under its own ids.
#include <gtest/gtest.h>

#include "twofold/modem/at/format.h"

#include "twofold/modem/at/command.h"
#include "twofold/modem/at/response.h"
#include "twofold/modem/mediator/ownership.h"
#include "twofold/modem/mediator/state_filter.h"

namespace twofold::modem::mediator {
namespace {

constexpr PersonaIndex kPersonal = 0;
constexpr PersonaIndex kSecure = 1;

at::Command one(std::string_view text) { return at::parse_command_line(text).value().commands.at(0); }

at::ResponseLine info(std::string_view text, std::string_view command, std::optional<std::string> body = {}) {
  at::ResponseContext context{true, std::string(command), {}, false};
  at::ResponseLine line = at::classify_response_line(text, context);
  line.body = std::move(body);
  return line;
}

const at::FinalResult kOk{};

std::string rewritten_text(const Rewritten& r) {
  if (const auto* c = std::get_if<at::Command>(&r)) {
    std::string text = at::format_command_line(at::CommandLine{{*c}});
    if (text.ends_with(";") && c->kind == at::CommandKind::kExtended) text.pop_back();
    return text;
  }
  return "local:" + std::get<LocalError>(r).result;
}

TEST(OwnershipTable, VisibleIdsAreLowestFreePerPersona) {
  OwnershipTable t(2, 3);
  EXPECT_EQ(t.claim(kSecure, 1), 1U);
  EXPECT_EQ(t.claim(kPersonal, 2), 1U);  // the personal persona's first is 1 too
  EXPECT_EQ(t.claim(kPersonal, 5), 2U);
  EXPECT_FALSE(t.claim(kPersonal, 5).has_value());  // already owned
  EXPECT_EQ(t.physical_id(kPersonal, 2), 5U);
  EXPECT_FALSE(t.physical_id(kPersonal, 3).has_value());
  EXPECT_FALSE(t.visible_id(kPersonal, 1).has_value());  // the secure persona's
  t.release(2);
  EXPECT_EQ(t.claim(kPersonal, 7), 1U);
  EXPECT_TRUE(t.owned_by_other(kPersonal));
}

TEST(OwnershipTable, ExhaustedVisibleIdsRefuseTheClaim) {
  OwnershipTable t(2, 2);
  EXPECT_TRUE(t.claim(kPersonal, 1));
  EXPECT_TRUE(t.claim(kPersonal, 2));
  EXPECT_FALSE(t.claim(kPersonal, 3).has_value());
  EXPECT_FALSE(t.claim(5, 4).has_value());  // no such persona
}

TEST(StateFilter, ClccShowsOnlyTheOwnCallsRenumbered) {
  StateFilter f(2);
  f.note_dial(kSecure);
  f.observe_call_line(info("+CLCC: 1,0,3,0,0,\"+4930111\",145", "+CLCC"));
  f.on_final(kSecure, one("AT+CLCC"), kOk);
  f.note_dial(kPersonal);
  // The personal persona's listing: its own call 2 appears as its call 1, the secure one
  // not at all.
  EXPECT_FALSE(f.filter_information(kPersonal, info("+CLCC: 1,0,0,0,0,\"+4930111\",145", "+CLCC")));
  EXPECT_EQ(f.filter_information(kPersonal, info("+CLCC: 2,0,3,0,0,\"+4940222\",145", "+CLCC")),
            "+CLCC: 1,0,3,0,0,\"+4940222\",145");
  f.on_final(kPersonal, one("AT+CLCC"), kOk);
  EXPECT_EQ(f.filter_information(kSecure, info("+CLCC: 1,0,0,0,0,\"+4930111\",145", "+CLCC")),
            "+CLCC: 1,0,0,0,0,\"+4930111\",145");
  EXPECT_FALSE(f.filter_information(kSecure, info("+CLCC: 2,0,0,0,0,\"+4940222\",145", "+CLCC")));
}

TEST(StateFilter, UnownedCallsAreShownToNobody) {
  StateFilter f(2);
  EXPECT_FALSE(f.filter_information(kPersonal, info("+CLCC: 1,0,0,0,0,\"+4930111\",145", "+CLCC")));
  EXPECT_FALSE(f.filter_information(kSecure, info("+CLCC: 1,0,0,0,0,\"+4930111\",145", "+CLCC")));
}

TEST(StateFilter, IncomingCallIsAdoptedByTheRoutedPersonaOnly) {
  StateFilter f(2);
  f.set_incoming_owner(kSecure);
  EXPECT_FALSE(f.filter_information(kPersonal, info("+CLCC: 1,1,4,0,0,\"+4930111\",145", "+CLCC")));
  EXPECT_EQ(f.calls().owner(1), kSecure);
}

TEST(StateFilter, EndedCallsAreReleasedByTheNextListing) {
  StateFilter f(2);
  f.note_dial(kSecure);
  f.observe_call_line(info("+CLCC: 1,0,3,0,0,\"+4930111\",145", "+CLCC"));
  f.on_final(kSecure, one("AT+CLCC"), kOk);
  ASSERT_EQ(f.calls().owner(1), kSecure);
  f.on_final(kSecure, one("AT+CLCC"), kOk);  // empty listing
  EXPECT_FALSE(f.calls().owner(1).has_value());
}

// Issue 13 (call-state oracle): ATH/+CHUP/+CHLD answered +CME ERROR: 3 while the other
// persona had a call and OK otherwise. Now the answer is the persona's own modem's: with no
// call of its own ATH is OK and +CHLD/+VTS +CME ERROR: 3, whatever the other persona does;
// nothing is sent, so the other's call is untouched.
TEST(StateFilter, CallControlWithoutOwnCallAnswersTheSameWhateverTheOtherPersonaDoes) {
  for (bool other_in_call : {false, true}) {
    StateFilter f(2);
    if (other_in_call) {
      f.note_dial(kSecure);
      f.observe_call_line(info("+CLCC: 1,0,0,0,0,\"+4930111\",145", "+CLCC"));
    }
    EXPECT_EQ(rewritten_text(f.rewrite(kPersonal, one("ATH"))), "local:OK") << other_in_call;
    EXPECT_EQ(rewritten_text(f.rewrite(kPersonal, one("AT+CHUP"))), "local:OK") << other_in_call;
    EXPECT_EQ(rewritten_text(f.rewrite(kPersonal, one("AT+CHLD=1"))), "local:+CME ERROR: 3") << other_in_call;
    EXPECT_EQ(rewritten_text(f.rewrite(kPersonal, one("AT+CHLD=11"))), "local:+CME ERROR: 3") << other_in_call;
    EXPECT_EQ(rewritten_text(f.rewrite(kPersonal, one("AT+VTS=\"1\""))), "local:+CME ERROR: 3") << other_in_call;
    EXPECT_EQ(rewritten_text(f.rewrite(kPersonal, one("ATA"))), "local:NO CARRIER") << other_in_call;
  }
}

TEST(StateFilter, CallControlOnTheOwnCallIsForwarded) {
  StateFilter f(2);
  f.note_dial(kSecure);
  f.observe_call_line(info("+CLCC: 1,0,0,0,0,\"+4930111\",145", "+CLCC"));
  EXPECT_EQ(rewritten_text(f.rewrite(kSecure, one("ATH"))), "ATH");
  EXPECT_EQ(rewritten_text(f.rewrite(kSecure, one("AT+VTS=\"1\""))), "AT+VTS=\"1\"");
  EXPECT_EQ(rewritten_text(f.rewrite(kSecure, one("AT+CHLD=1"))), "AT+CHLD=1");
}

// Issue 13: ATD during the other persona's call put that call on hold. The voice channel is
// the other persona's: the dial fails as a network would fail it, nothing is sent.
TEST(StateFilter, DialWhileTheOtherPersonaHoldsTheVoiceChannelIsNotSent) {
  StateFilter f(2);
  f.note_dial(kSecure);
  f.observe_call_line(info("+CLCC: 1,0,0,0,0,\"+4930111\",145", "+CLCC"));
  EXPECT_EQ(rewritten_text(f.rewrite(kPersonal, one("ATD+4930222;"))), "local:NO CARRIER");
  EXPECT_EQ(rewritten_text(f.rewrite(kSecure, one("ATD+4930222;"))), "ATD+4930222;");
}

TEST(StateFilter, ChldWithCallIdIsTranslatedOrRefused) {
  StateFilter f(2);
  f.note_dial(kPersonal);
  f.observe_call_line(info("+CLCC: 1,0,0,0,0,\"+4930111\",145", "+CLCC"));
  f.note_dial(kSecure);
  f.observe_call_line(info("+CLCC: 2,0,0,0,0,\"+4930222\",145", "+CLCC"));
  EXPECT_EQ(rewritten_text(f.rewrite(kSecure, one("AT+CHLD=11"))), "AT+CHLD=12");
  EXPECT_EQ(rewritten_text(f.rewrite(kSecure, one("AT+CHLD=21"))), "AT+CHLD=22");
  EXPECT_EQ(rewritten_text(f.rewrite(kSecure, one("AT+CHLD=12"))), "local:+CME ERROR: 3");
}

TEST(StateFilter, AnswerOnlyByThePersonaTheCallWasRoutedTo) {
  StateFilter f(2);
  // V.250: ATA with no call ringing is NO CARRIER, whether or not the other persona's rings.
  EXPECT_EQ(rewritten_text(f.rewrite(kSecure, one("ATA"))), "local:NO CARRIER");
  f.set_incoming_owner(kSecure);
  EXPECT_EQ(rewritten_text(f.rewrite(kPersonal, one("ATA"))), "local:NO CARRIER");
  EXPECT_EQ(rewritten_text(f.rewrite(kSecure, one("ATA"))), "ATA");
}

TEST(StateFilter, MessageIndicesAreTranslatedAndOthersRefused) {
  StateFilter f(2);
  EXPECT_EQ(f.claim_message(kSecure, 1), 1U);
  EXPECT_EQ(f.claim_message(kPersonal, 2), 1U);
  EXPECT_EQ(rewritten_text(f.rewrite(kPersonal, one("AT+CMGR=1"))), "AT+CMGR=2");
  EXPECT_EQ(rewritten_text(f.rewrite(kSecure, one("AT+CMGD=1"))), "AT+CMGD=1");
  // The secure persona's message has no index in the personal persona's storage.
  EXPECT_EQ(rewritten_text(f.rewrite(kPersonal, one("AT+CMGR=2"))), "local:+CMS ERROR: 321");
  EXPECT_EQ(rewritten_text(f.rewrite(kPersonal, one("AT+CMGD=2"))), "local:+CMS ERROR: 321");
}

TEST(StateFilter, CmglListsOnlyTheOwnMessagesWithBodies) {
  StateFilter f(2);
  f.claim_message(kSecure, 1);
  f.claim_message(kPersonal, 3);
  EXPECT_FALSE(f.filter_information(kPersonal, info("+CMGL: 1,\"REC UNREAD\",\"+4930111\",,\"26/11/21,10:00:00+04\"",
                                                    "+CMGL", "secret")));
  EXPECT_EQ(f.filter_information(kPersonal, info("+CMGL: 3,\"REC READ\",\"+4940222\"", "+CMGL", "hello")),
            "+CMGL: 1,\"REC READ\",\"+4940222\"\r\nhello");
}

TEST(StateFilter, DeletedMessageIndexIsReleased) {
  StateFilter f(2);
  f.claim_message(kPersonal, 4);
  const Rewritten r = f.rewrite(kPersonal, one("AT+CMGD=1"));
  ASSERT_TRUE(std::holds_alternative<at::Command>(r));
  f.on_final(kPersonal, std::get<at::Command>(r), kOk);
  EXPECT_FALSE(f.messages().owner(4).has_value());
}

TEST(StateFilter, WrittenMessageBecomesTheWritersOwn) {
  StateFilter f(2);
  f.claim_message(kSecure, 1);
  EXPECT_EQ(f.filter_information(kPersonal, info("+CMGW: 2", "+CMGW")), "+CMGW: 1");
  EXPECT_EQ(f.messages().owner(2), kPersonal);
  // A +CMGW naming the other persona's slot (a modem bug or attack) reveals nothing.
  EXPECT_FALSE(f.filter_information(kPersonal, info("+CMGW: 1", "+CMGW")));
}

TEST(StateFilter, FormatResponseRequotesStrings) {
  EXPECT_EQ(format_response("+CLCC", {at::Parameter::of_number(1), at::Parameter::of_string("a\"b\r"),
                                      at::Parameter::empty(), at::Parameter::of_token("READY")}),
            "+CLCC: 1,\"a\\22b\\0D\",,READY");
}

}  // namespace
}  // namespace twofold::modem::mediator
