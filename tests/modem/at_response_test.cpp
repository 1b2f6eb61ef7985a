// Modem output: final result codes, information responses, URCs and their context.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "twofold/modem/at/limits.h"
#include "twofold/modem/at/response_stream.h"

namespace twofold::modem::at {
namespace {

ResponseContext in_flight(std::string name, std::string echo = {}) {
  ResponseContext context;
  context.command_in_flight = true;
  context.command_name = std::move(name);
  context.echo = std::move(echo);
  return context;
}

std::vector<ResponseEvent> feed(std::string_view bytes, const ResponseContext& context = {}) {
  ResponseStream stream;
  stream.set_context(context);
  std::vector<ResponseEvent> events;
  stream.feed(bytes, [&](ResponseEvent&& event) { events.push_back(std::move(event)); });
  return events;
}

std::vector<ResponseLine> lines(std::string_view bytes, const ResponseContext& context = {}) {
  std::vector<ResponseLine> out;
  for (auto& event : feed(bytes, context)) {
    auto* line = std::get_if<ResponseLine>(&event);
    EXPECT_NE(line, nullptr);
    if (line != nullptr) out.push_back(std::move(*line));
  }
  return out;
}

ResponseLine one(std::string_view bytes, const ResponseContext& context = {}) {
  auto all = lines(bytes, context);
  EXPECT_EQ(all.size(), 1u) << bytes;
  return all.empty() ? ResponseLine{} : all.front();
}

TEST(AtResponse, OkEndsTheCommandInFlight) {
  const ResponseLine line = one("\r\nOK\r\n", in_flight("+CSQ"));
  EXPECT_EQ(line.kind, ResponseKind::kFinal);
  EXPECT_EQ(line.final->code, FinalCode::kOk);
}

TEST(AtResponse, OkWithNothingInFlightIsUnexpected) {
  EXPECT_EQ(one("\r\nOK\r\n").kind, ResponseKind::kUnexpected);
}

TEST(AtResponse, CmeErrorCarriesItsNumber) {
  const ResponseLine line = one("\r\n+CME ERROR: 10\r\n", in_flight("+CPIN"));
  EXPECT_EQ(line.final->code, FinalCode::kCmeError);
  EXPECT_EQ(line.final->error_number, std::optional<std::uint32_t>(10));
}

TEST(AtResponse, CmeErrorInVerboseModeCarriesItsText) {
  const ResponseLine line = one("\r\n+CME ERROR: SIM not inserted\r\n", in_flight("+CPIN"));
  EXPECT_EQ(line.final->error_number, std::nullopt);
  EXPECT_EQ(line.final->text, "SIM not inserted");
}

TEST(AtResponse, CmsErrorIsFinal) {
  const ResponseLine line = one("\r\n+CMS ERROR: 321\r\n", in_flight("+CMGR"));
  EXPECT_EQ(line.kind, ResponseKind::kFinal);
  EXPECT_EQ(line.final->code, FinalCode::kCmsError);
  EXPECT_EQ(line.final->error_number, std::optional<std::uint32_t>(321));
}

TEST(AtResponse, CallResultCodesAreFinal) {
  EXPECT_EQ(one("\r\nBUSY\r\n", in_flight("D")).final->code, FinalCode::kBusy);
  EXPECT_EQ(one("\r\nNO ANSWER\r\n", in_flight("D")).final->code, FinalCode::kNoAnswer);
  EXPECT_EQ(one("\r\nNO DIALTONE\r\n", in_flight("D")).final->code, FinalCode::kNoDialtone);
  EXPECT_EQ(one("\r\nERROR\r\n", in_flight("D")).final->code, FinalCode::kError);
}

TEST(AtResponse, ConnectKeepsItsText) {
  const ResponseLine line = one("\r\nCONNECT 115200\r\n", in_flight("D"));
  EXPECT_EQ(line.final->code, FinalCode::kConnect);
  EXPECT_EQ(line.final->text, "115200");
}

TEST(AtResponse, NoCarrierWithNothingInFlightIsUnsolicited) {
  EXPECT_EQ(one("\r\nNO CARRIER\r\n").kind, ResponseKind::kUnsolicited);
}

TEST(AtResponse, CregAnswersACregReadInFlight) {
  const ResponseLine line = one("\r\n+CREG: 2,1,\"00C3\",\"A1B2\"\r\n", in_flight("+CREG"));
  EXPECT_EQ(line.kind, ResponseKind::kInformation);
  const std::vector<Parameter> expected = {Parameter::of_number(2), Parameter::of_number(1),
                                           Parameter::of_string("00C3"), Parameter::of_string("A1B2")};
  EXPECT_EQ(line.fields, expected);
}

TEST(AtResponse, CregDuringAnotherCommandIsUnsolicited) {
  EXPECT_EQ(one("\r\n+CREG: 1\r\n", in_flight("+CLCC")).kind, ResponseKind::kUnsolicited);
}

TEST(AtResponse, CregWithNothingInFlightIsUnsolicited) {
  EXPECT_EQ(one("\r\n+CREG: 5\r\n").kind, ResponseKind::kUnsolicited);
}

TEST(AtResponse, RingIsUnsolicitedEvenDuringACommand) {
  const ResponseLine line = one("\r\nRING\r\n", in_flight("+CSQ"));
  EXPECT_EQ(line.kind, ResponseKind::kUnsolicited);
  EXPECT_EQ(line.name, "RING");
}

TEST(AtResponse, ClipCarriesNumberAndType) {
  const ResponseLine line = one("\r\n+CLIP: \"+4930123\",145,,,,0\r\n");
  EXPECT_EQ(line.kind, ResponseKind::kUnsolicited);
  EXPECT_EQ(line.fields.at(0), Parameter::of_string("+4930123"));
  EXPECT_EQ(line.fields.at(1), Parameter::of_number(145));
  EXPECT_EQ(line.fields.size(), 6u);
}

TEST(AtResponse, CmtiNamesStorageAndIndex) {
  const ResponseLine line = one("\r\n+CMTI: \"SM\",3\r\n");
  EXPECT_EQ(line.name, "+CMTI");
  EXPECT_EQ(line.fields, (std::vector<Parameter>{Parameter::of_string("SM"), Parameter::of_number(3)}));
}

TEST(AtResponse, UnquotedValueIsAToken) {
  EXPECT_EQ(one("\r\n+CPIN: READY\r\n", in_flight("+CPIN")).fields,
            std::vector<Parameter>{Parameter::of_token("READY")});
}

TEST(AtResponse, PlainTextAnswersTheCommandInFlight) {
  const ResponseLine line = one("\r\nTwofold Labs\r\n", in_flight("+CGMI"));
  EXPECT_EQ(line.kind, ResponseKind::kInformation);
  EXPECT_TRUE(line.name.empty());
}

TEST(AtResponse, PlainTextWithNothingInFlightIsUnexpected) {
  EXPECT_EQ(one("\r\nhello\r\n").kind, ResponseKind::kUnexpected);
}

TEST(AtResponse, CmglHeaderCarriesTheFollowingTextLine) {
  const auto all = lines("\r\n+CMGL: 1,\"REC UNREAD\",\"+4912\",,\"24/01/01,12:00:00+04\"\r\nOK\r\n"
                         "+CMGL: 2,\"REC READ\",\"+4913\",,\"24/01/01,12:00:01+04\"\r\nsecond\r\n\r\nOK\r\n",
                         in_flight("+CMGL"));
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0].body, std::optional<std::string>("OK"));  // a message whose text is "OK"
  EXPECT_EQ(all[0].fields.at(4), Parameter::of_string("24/01/01,12:00:00+04"));
  EXPECT_EQ(all[1].body, std::optional<std::string>("second"));
  EXPECT_EQ(all[2].kind, ResponseKind::kFinal);
}

TEST(AtResponse, EmptyBodyLineIsAnEmptyBody) {
  const auto all = lines("\r\n+CMGR: \"REC READ\",\"+49\",,\"x\"\r\n\r\n\r\nOK\r\n", in_flight("+CMGR"));
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].body, std::optional<std::string>(""));
}

TEST(AtResponse, CmtUrcCarriesItsPduLine) {
  const ResponseLine line = one("\r\n+CMT: ,24\r\n07911326040000F0040B911346610089F60000208062917314080CC8F71D14969741F977FD07\r\n");
  EXPECT_EQ(line.kind, ResponseKind::kUnsolicited);
  ASSERT_TRUE(line.body.has_value());
  EXPECT_TRUE(line.body->starts_with("0791"));
}

TEST(AtResponse, CmglTestResponseHasNoBody) {
  const auto all = lines("\r\n+CMGL: (\"REC UNREAD\",\"ALL\")\r\n\r\nOK\r\n", in_flight("+CMGL"));
  ASSERT_EQ(all.size(), 2u);
  EXPECT_FALSE(all[0].body.has_value());
}

TEST(AtResponse, ParenthesisedGroupsAreSingleFields) {
  const ResponseLine line = one("\r\n+COPS: (2,\"Op, A\",\"OA\",\"26201\",7),(1,\"B\",\"B\",\"26202\",2),,(0-4),(0-2)\r\n",
                                in_flight("+COPS"));
  ASSERT_TRUE(line.fields_valid);
  ASSERT_EQ(line.fields.size(), 5u);
  EXPECT_EQ(line.fields[0].text, "(2,\"Op, A\",\"OA\",\"26201\",7)");
  EXPECT_TRUE(line.fields[2].is_empty());
  EXPECT_EQ(line.fields[3].text, "(0-4)");
}

TEST(AtResponse, UnterminatedQuoteMarksFieldsInvalidButKeepsTheLine) {
  const ResponseLine line = one("\r\n+CLIP: \"+49,145\r\n");
  EXPECT_FALSE(line.fields_valid);
  EXPECT_EQ(line.raw, "+CLIP: \"+49,145");
}

TEST(AtResponse, NestingBeyondLimitMarksFieldsInvalid) {
  EXPECT_FALSE(one("\r\n+X: (((((1)))))\r\n", in_flight("+X")).fields_valid);
}

TEST(AtResponse, FieldCountIsBoundedEvenWithATrailingComma) {
  EXPECT_TRUE(parse_response_fields(std::string(kMaxResponseFields - 1, ',')).has_value());
  EXPECT_FALSE(parse_response_fields(std::string(kMaxResponseFields, ',')).has_value());
  EXPECT_EQ(parse_response_fields(std::string(kMaxResponseFields - 1, ','))->size(), kMaxResponseFields);
}

TEST(AtResponse, EchoOfTheCommandInFlightIsRecognised) {
  EXPECT_EQ(one("AT+CSQ\r\r\n", in_flight("+CSQ", "AT+CSQ")).kind, ResponseKind::kEcho);
}

TEST(AtResponse, PromptIsRecognisedWithoutTerminatorWhenExpected) {
  ResponseContext context = in_flight("+CMGS");
  context.expect_prompt = true;
  const auto all = lines("\r\n> ", context);
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].kind, ResponseKind::kPrompt);
}

TEST(AtResponse, PromptTextIsNotAPromptWhenNotExpected) {
  EXPECT_TRUE(lines("\r\n> ", in_flight("+CSQ")).empty());
}

TEST(AtResponse, OverlongLineIsReportedAndTheNextLineParses) {
  const auto events = feed("\r\n" + std::string(kMaxResponseLineLength + 10, 'x') + "\r\nOK\r\n", in_flight("+CSQ"));
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(std::get<ResponseErrorEvent>(events[0]).error.reason, ErrorReason::kLineTooLong);
  EXPECT_EQ(std::get<ResponseLine>(events[1]).final->code, FinalCode::kOk);
}

TEST(AtResponse, ControlByteInLineIsAnError) {
  const auto events = feed(std::string("\r\nO\0K\r\n", 7), in_flight("+CSQ"));
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(std::get<ResponseErrorEvent>(events[0]).error.reason, ErrorReason::kControlCharacter);
}

TEST(AtResponse, EveryChunkBoundaryGivesTheSameLines) {
  const std::string transcript =
      "\r\n+CLCC: 1,0,0,0,0,\"+4930\",145\r\n\r\nRING\r\n\r\n+CMGL: 1,\"REC READ\",\"+1\",,\"t\"\r\nhi\r\n"
      "\r\n+CME ERROR: 3\r\n";
  const auto whole = lines(transcript, in_flight("+CLCC"));
  ASSERT_EQ(whole.size(), 4u);
  for (std::size_t cut = 0; cut <= transcript.size(); ++cut) {
    ResponseStream stream;
    stream.set_context(in_flight("+CLCC"));
    std::vector<ResponseLine> split;
    auto sink = [&](ResponseEvent&& event) { split.push_back(std::get<ResponseLine>(event)); };
    stream.feed(std::string_view(transcript).substr(0, cut), sink);
    stream.feed(std::string_view(transcript).substr(cut), sink);
    EXPECT_EQ(split, whole) << "split at byte " << cut;
  }
}

TEST(AtResponse, ResetForgetsAHeaderWaitingForItsBody) {
  ResponseStream stream;
  stream.set_context(in_flight("+CMGR"));
  (void)stream.consume("\r\n+CMGR: 0,,24\r\n");
  EXPECT_TRUE(stream.has_partial_input());
  stream.reset();
  EXPECT_FALSE(stream.has_partial_input());
}

TEST(AtResponse, BinaryGarbageFromTheModemIsFollowedByTheNextFinal) {
  std::string garbage;
  std::uint32_t state = 12345;
  for (int i = 0; i < 8192; ++i) {
    state = state * 1103515245u + 12345u;
    garbage.push_back(static_cast<char>(state >> 24));
  }
  std::vector<ResponseEvent> events = feed(garbage + "\r\n\r\nOK\r\n", in_flight("+CSQ"));
  ASSERT_FALSE(events.empty());
  const auto* last = std::get_if<ResponseLine>(&events.back());
  ASSERT_NE(last, nullptr);
  EXPECT_EQ(last->final->code, FinalCode::kOk);
}

TEST(AtResponse, QuoteStringEscapesWhatCouldEndAString) {
  EXPECT_EQ(quote_string("a\"b\\c\r"), "\"a\\22b\\5Cc\\0D\"");
}

}  // namespace
}  // namespace twofold::modem::at
