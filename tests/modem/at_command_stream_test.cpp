// The streaming side: terminators, chunking, bounds, SMS bodies, hostile bytes.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "twofold/modem/at/command_stream.h"

namespace twofold::modem::at {
namespace {

// Switches to body mode the way the mediator will: when it sees +CMGS/+CMGW.
void enter_body_if_cmgs(CommandStream& stream, const CommandEvent& event, bool pdu_mode) {
  const auto* line = std::get_if<CommandLineEvent>(&event);
  if (line == nullptr || line->line.commands.empty()) return;
  const Command& last = line->line.commands.back();
  if (last.name != "+CMGS" && last.name != "+CMGW") return;
  if (pdu_mode) {
    ASSERT_FALSE(last.params.empty());
    EXPECT_FALSE(stream.enter_pdu_body(last.params[0].number).has_value());
  } else {
    stream.enter_text_body();
  }
}

std::vector<CommandEvent> feed_chunks(const std::vector<std::string>& chunks, bool pdu_mode = false) {
  CommandStream stream;
  std::vector<CommandEvent> events;
  for (const auto& chunk : chunks) {
    stream.feed(chunk, [&](CommandEvent&& event) {
      enter_body_if_cmgs(stream, event, pdu_mode);
      events.push_back(std::move(event));
    });
  }
  return events;
}

std::vector<CommandEvent> feed_all(std::string_view bytes, bool pdu_mode = false) {
  return feed_chunks({std::string(bytes)}, pdu_mode);
}

// A printable form for comparing event sequences across chunkings.
std::string describe(const CommandEvent& event) {
  struct Visitor {
    std::string operator()(const CommandLineEvent& e) const {
      std::string out = "line[" + e.raw + "]";
      for (const auto& c : e.line.commands) {
        out += " " + c.name + "/" + std::string(to_string(c.form)) + "/" + std::to_string(c.params.size());
        for (const auto& p : c.params) out += ":" + p.text + std::to_string(p.number);
        out += c.dial.number + (c.dial.voice ? ";" : "");
      }
      return out;
    }
    std::string operator()(const RepeatEvent&) const { return "repeat"; }
    std::string operator()(const SmsTextEvent& e) const { return "text[" + e.body.text + "]"; }
    std::string operator()(const SmsPduEvent& e) const { return "pdu[" + to_hex(e.body) + "]"; }
    std::string operator()(const SmsCancelledEvent&) const { return "cancel"; }
    std::string operator()(const CommandErrorEvent& e) const {
      return "error[" + std::string(to_string(e.error.reason)) + "@" + std::to_string(e.error.offset) + "]";
    }
  };
  return std::visit(Visitor{}, event);
}

std::vector<std::string> describe_all(const std::vector<CommandEvent>& events) {
  std::vector<std::string> out;
  for (const auto& e : events) out.push_back(describe(e));
  return out;
}

// Every split of the input into two chunks, and every split into single bytes, must give
// the events of the unsplit input.
void expect_chunking_invariant(std::string_view input, bool pdu_mode = false) {
  const auto whole = describe_all(feed_all(input, pdu_mode));
  ASSERT_FALSE(whole.empty());
  for (std::size_t cut = 0; cut <= input.size(); ++cut) {
    const auto split = describe_all(feed_chunks(
        {std::string(input.substr(0, cut)), std::string(input.substr(cut))}, pdu_mode));
    EXPECT_EQ(split, whole) << "split at byte " << cut;
  }
  std::vector<std::string> bytes;
  for (const char c : input) bytes.emplace_back(1, c);
  EXPECT_EQ(describe_all(feed_chunks(bytes, pdu_mode)), whole) << "byte by byte";
}

TEST(AtCommandStream, CarriageReturnEndsALine) {
  const auto events = feed_all("AT+CGMI\r");
  ASSERT_EQ(events.size(), 1u);
  const auto& line = std::get<CommandLineEvent>(events[0]);
  EXPECT_EQ(line.raw, "AT+CGMI");
  EXPECT_EQ(line.line.commands.at(0).name, "+CGMI");
}

TEST(AtCommandStream, LoneLineFeedIsToleratedAsTerminator) {
  EXPECT_EQ(describe_all(feed_all("AT\n")), std::vector<std::string>{"line[AT]"});
}

TEST(AtCommandStream, CrLfGivesOneEvent) {
  EXPECT_EQ(feed_all("AT\r\nAT\r\n").size(), 2u);
}

TEST(AtCommandStream, ConfiguredTerminatorReplacesCarriageReturn) {
  CommandStream stream(CommandStream::Config{.line_terminator = '!', .backspace = '\b'});
  const CommandStep step = stream.consume("ATZ!");
  ASSERT_TRUE(step.event.has_value());
  EXPECT_EQ(std::get<CommandLineEvent>(*step.event).raw, "ATZ");
}

TEST(AtCommandStream, ConsumeStopsRightAfterTheFirstEvent) {
  CommandStream stream;
  const CommandStep step = stream.consume("AT\rATZ\r");
  EXPECT_EQ(step.consumed, 3u);
  EXPECT_TRUE(step.event.has_value());
}

TEST(AtCommandStream, HalfSentCommandGivesNoEventUntilCompleted) {
  CommandStream stream;
  const CommandStep first = stream.consume("AT+CM");
  EXPECT_FALSE(first.event.has_value());
  EXPECT_TRUE(stream.has_partial_input());
  const CommandStep second = stream.consume("GF=1\r");
  ASSERT_TRUE(second.event.has_value());
  EXPECT_EQ(std::get<CommandLineEvent>(*second.event).line.commands.at(0).name, "+CMGF");
  EXPECT_FALSE(stream.has_partial_input());
}

TEST(AtCommandStream, ResetDropsAHalfSentCommand) {
  CommandStream stream;
  (void)stream.consume("AT+CMGD=1");
  stream.reset();
  const CommandStep step = stream.consume("\r");
  EXPECT_FALSE(step.event.has_value());
}

TEST(AtCommandStream, EmptyLinesAreIgnored) {
  EXPECT_TRUE(feed_all("\r\r\n\n").empty());
}

TEST(AtCommandStream, BackspaceRemovesThePreviousByte) {
  EXPECT_EQ(describe_all(feed_all("ATX\bZ\r")), std::vector<std::string>{"line[ATZ] Z/action/0"});
}

TEST(AtCommandStream, ARepeatIsReportedWithoutTerminator) {
  EXPECT_EQ(describe_all(feed_all("a/")), std::vector<std::string>{"repeat"});
  EXPECT_EQ(describe_all(feed_all("AT\rA/")), (std::vector<std::string>{"line[AT]", "repeat"}));
}

TEST(AtCommandStream, SlashAfterAtIsAnError) {
  const auto events = feed_all("AT/\r");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(std::get<CommandErrorEvent>(events[0]).error.reason, ErrorReason::kUnexpectedCharacter);
}

TEST(AtCommandStream, LineAtTheLimitIsAccepted) {
  std::string line = "AT+X=\"" + std::string(kMaxCommandLineLength - 7, 'a') + "\"";
  ASSERT_EQ(line.size(), kMaxCommandLineLength);
  const auto events = feed_all(line + "\r");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_TRUE(std::holds_alternative<CommandLineEvent>(events[0]));
}

TEST(AtCommandStream, OverlongLineIsDiscardedAndReportedAtItsTerminator) {
  const std::string line = "AT+X=\"" + std::string(kMaxCommandLineLength, 'a') + "\"";
  const auto events = feed_all(line + "\rATZ\r");
  ASSERT_EQ(events.size(), 2u);
  const auto& error = std::get<CommandErrorEvent>(events[0]);
  EXPECT_EQ(error.error.reason, ErrorReason::kLineTooLong);
  EXPECT_EQ(error.raw.size(), kMaxCommandLineLength);
  EXPECT_EQ(std::get<CommandLineEvent>(events[1]).raw, "ATZ");
}

TEST(AtCommandStream, UnterminatedFloodStaysBounded) {
  CommandStream stream;
  const std::string megabyte(1 << 20, 'A');
  const CommandStep step = stream.consume(megabyte);
  EXPECT_EQ(step.consumed, megabyte.size());
  EXPECT_FALSE(step.event.has_value());
  const CommandStep end = stream.consume("\r");
  ASSERT_TRUE(end.event.has_value());
  EXPECT_EQ(std::get<CommandErrorEvent>(*end.event).raw.size(), kMaxCommandLineLength);
}

TEST(AtCommandStream, NulByteInLineIsAControlCharacterError) {
  const auto events = feed_all(std::string("AT\0Z\r", 5));
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(std::get<CommandErrorEvent>(events[0]).error.reason, ErrorReason::kControlCharacter);
}

TEST(AtCommandStream, BinaryGarbageGivesOnlyErrorsAndRecovers) {
  std::mt19937 random(42);
  std::string garbage;
  for (int i = 0; i < 4096; ++i) {
    auto byte = static_cast<char>(random() & 0xff);
    if (byte == 'A' || byte == 'a' || byte == '\x1a') byte = '?';  // no accidental AT or A/
    garbage.push_back(byte);
  }
  const auto events = feed_all(garbage + "\rAT+CSQ\r");
  ASSERT_FALSE(events.empty());
  for (std::size_t i = 0; i + 1 < events.size(); ++i) {
    EXPECT_TRUE(std::holds_alternative<CommandErrorEvent>(events[i])) << describe(events[i]);
  }
  EXPECT_EQ(describe(events.back()), "line[AT+CSQ] +CSQ/action/0");
}

TEST(AtCommandStream, EveryChunkBoundaryGivesTheSameCommandEvents) {
  expect_chunking_invariant("AT+CMGF=1;+CSCS=\"GSM\";E0\r\nATD+4930123;\rA/AT+CPBW=1,\"\\22x\\22\"\r");
}

TEST(AtCommandStream, EveryChunkBoundaryGivesTheSameErrors) {
  expect_chunking_invariant(std::string("AT\0X\rAT+CMGS=\"1\r") + std::string(600, 'x') + "\rATZ\r");
}

TEST(AtCommandStream, TextBodyEndsWithCtrlZ) {
  const auto events = feed_all("AT+CMGS=\"+4912\"\rHello\r\nthere\x1a");
  EXPECT_EQ(describe_all(events),
            (std::vector<std::string>{"line[AT+CMGS=\"+4912\"] +CMGS/set/1:+49120", "text[Hello\r\nthere]"}));
}

TEST(AtCommandStream, StreamReturnsToCommandModeAfterTheBody) {
  const auto events = feed_all("AT+CMGS=\"1\"\rHi\x1a" "AT\r");
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(describe(events[2]), "line[AT]");
}

TEST(AtCommandStream, EscCancelsTheBody) {
  const auto events = feed_all("AT+CMGS=\"1\"\rHi\x1b" "AT\r");
  EXPECT_EQ(describe_all(events),
            (std::vector<std::string>{"line[AT+CMGS=\"1\"] +CMGS/set/1:10", "cancel", "line[AT]"}));
}

TEST(AtCommandStream, TextBodyAboveLimitIsReportedAtCtrlZ) {
  const auto events = feed_all("AT+CMGS=\"1\"\r" + std::string(kMaxSmsTextBodyLength + 1, 'x') + "\x1a");
  ASSERT_EQ(events.size(), 2u);
  const auto& error = std::get<CommandErrorEvent>(events[1]);
  EXPECT_EQ(error.error.reason, ErrorReason::kBodyTooLong);
  EXPECT_EQ(error.raw.size(), kMaxSmsTextBodyLength);
}

TEST(AtCommandStream, TextBodyAtLimitIsAccepted) {
  const auto events = feed_all("AT+CMGS=\"1\"\r" + std::string(kMaxSmsTextBodyLength, 'x') + "\x1a");
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(std::get<SmsTextEvent>(events[1]).body.text.size(), kMaxSmsTextBodyLength);
}

TEST(AtCommandStream, NulInTextBodyIsInvalidBodyCharacter) {
  const auto events = feed_all(std::string("AT+CMGS=\"1\"\rab\0c\x1a", 17));
  ASSERT_EQ(events.size(), 2u);
  const auto& error = std::get<CommandErrorEvent>(events[1]);
  EXPECT_EQ(error.error.reason, ErrorReason::kInvalidBodyCharacter);
  EXPECT_EQ(error.error.offset, 2u);
}

TEST(AtCommandStream, UnterminatedBodyKeepsStreamInBodyModeUntilReset) {
  CommandStream stream;
  stream.enter_text_body();
  (void)stream.consume("half a message");
  EXPECT_EQ(stream.mode(), CommandStream::Mode::kSmsText);
  EXPECT_TRUE(stream.has_partial_input());
  stream.reset();
  EXPECT_EQ(stream.mode(), CommandStream::Mode::kCommand);
  EXPECT_FALSE(stream.has_partial_input());
}

// The classic 27.005 example: default SMSC ("00"), then a 23-octet SMS-SUBMIT.
constexpr std::string_view kSubmitPdu = "0011000B916407281553F80000AA0AE8329BFD4697D9EC37";

TEST(AtCommandStream, PduBodyIsDecodedAndLengthChecked) {
  const auto events = feed_all("AT+CMGS=23\r" + std::string(kSubmitPdu) + "\x1a", true);
  ASSERT_EQ(events.size(), 2u);
  const auto& pdu = std::get<SmsPduEvent>(events[1]).body;
  EXPECT_TRUE(pdu.smsc.empty());
  EXPECT_EQ(pdu.tpdu.size(), 23u);
  EXPECT_EQ(pdu.tpdu.front(), 0x11);
}

TEST(AtCommandStream, PduWithSmscPartExcludesItFromLength) {
  const std::string with_smsc = "07911326040000F0" + std::string(kSubmitPdu.substr(2));
  const auto events = feed_all("AT+CMGS=23\r" + with_smsc + "\r\n\x1a", true);
  ASSERT_EQ(events.size(), 2u);
  const auto& pdu = std::get<SmsPduEvent>(events[1]).body;
  EXPECT_EQ(pdu.smsc.size(), 7u);
  EXPECT_EQ(pdu.tpdu.size(), 23u);
}

TEST(AtCommandStream, PduShorterThanLengthIsMismatch) {
  const auto events = feed_all("AT+CMGS=24\r" + std::string(kSubmitPdu) + "\x1a", true);
  EXPECT_EQ(std::get<CommandErrorEvent>(events.at(1)).error.reason, ErrorReason::kPduLengthMismatch);
}

TEST(AtCommandStream, PduWithOddDigitCountIsInvalid) {
  const auto events = feed_all("AT+CMGS=23\r" + std::string(kSubmitPdu) + "0\x1a", true);
  EXPECT_EQ(std::get<CommandErrorEvent>(events.at(1)).error.reason, ErrorReason::kInvalidPdu);
}

TEST(AtCommandStream, NonHexByteInPduIsInvalidBodyCharacter) {
  const auto events = feed_all("AT+CMGS=1\r00G1\x1a", true);
  EXPECT_EQ(std::get<CommandErrorEvent>(events.at(1)).error.reason, ErrorReason::kInvalidBodyCharacter);
}

TEST(AtCommandStream, SmscLengthBeyondTheDataIsInvalid) {
  const auto events = feed_all("AT+CMGS=1\r0A11\x1a", true);
  EXPECT_EQ(std::get<CommandErrorEvent>(events.at(1)).error.reason, ErrorReason::kInvalidPdu);
}

TEST(AtCommandStream, PduAboveLimitIsBodyTooLong) {
  const auto events = feed_all("AT+CMGS=164\r" + std::string(kMaxPduHexLength + 2, '0') + "\x1a", true);
  EXPECT_EQ(std::get<CommandErrorEvent>(events.at(1)).error.reason, ErrorReason::kBodyTooLong);
}

TEST(AtCommandStream, PduLengthOutsideRangeIsRefused) {
  CommandStream stream;
  EXPECT_EQ(stream.enter_pdu_body(0)->reason, ErrorReason::kInvalidPduLength);
  EXPECT_EQ(stream.enter_pdu_body(kMaxTpduOctets + 1)->reason, ErrorReason::kInvalidPduLength);
  EXPECT_EQ(stream.mode(), CommandStream::Mode::kCommand);
}

TEST(AtCommandStream, EveryChunkBoundaryGivesTheSameBodies) {
  expect_chunking_invariant("AT+CMGS=23\r" + std::string(kSubmitPdu) + "\x1a" "AT+CMGW=1\r00\x1b", true);
  expect_chunking_invariant("AT+CMGS=\"+49\"\rline one\r\nline two\x1a" "AT\r");
}

}  // namespace
}  // namespace twofold::modem::at
