// V.250 / 27.007 command-line syntax, one syntax element per test.
#include <gtest/gtest.h>

#include <string>

#include "twofold/modem/at/command.h"

namespace twofold::modem::at {
namespace {

CommandLine parse_ok(std::string_view line) {
  auto result = parse_command_line(line);
  EXPECT_TRUE(result.ok()) << line << ": " << (result.ok() ? "" : to_string(result.error().reason));
  return result.ok() ? result.value() : CommandLine{};
}

ParseError parse_error(std::string_view line) {
  auto result = parse_command_line(line);
  EXPECT_FALSE(result.ok()) << line;
  return result.ok() ? ParseError{} : result.error();
}

Command single(std::string_view line) {
  CommandLine parsed = parse_ok(line);
  EXPECT_EQ(parsed.commands.size(), 1u) << line;
  return parsed.commands.empty() ? Command{} : parsed.commands.front();
}

TEST(AtCommandParser, BareAtIsAnEmptyCommandLine) {
  EXPECT_TRUE(parse_ok("AT").commands.empty());
}

TEST(AtCommandParser, PrefixIsCaseInsensitive) {
  EXPECT_EQ(single("at+cgmi").name, "+CGMI");
  EXPECT_EQ(single("At+cgmi").name, "+CGMI");
  EXPECT_EQ(single("aT+cgmi").name, "+CGMI");
}

TEST(AtCommandParser, LineWithoutPrefixIsMissingPrefix) {
  EXPECT_EQ(parse_error("+CGMI").reason, ErrorReason::kMissingPrefix);
  EXPECT_EQ(parse_error("A").reason, ErrorReason::kMissingPrefix);
}

TEST(AtCommandParser, BasicCommandWithNumberIsSetForm) {
  const Command command = single("ATE0");
  EXPECT_EQ(command.kind, CommandKind::kBasic);
  EXPECT_EQ(command.name, "E");
  EXPECT_EQ(command.form, CommandForm::kSet);
  EXPECT_EQ(command.params, std::vector<Parameter>{Parameter::of_number(0)});
}

TEST(AtCommandParser, BasicCommandWithoutNumberIsAction) {
  const Command command = single("ATH");
  EXPECT_EQ(command.name, "H");
  EXPECT_EQ(command.form, CommandForm::kAction);
  EXPECT_TRUE(command.params.empty());
}

TEST(AtCommandParser, BasicCommandsFollowEachOtherWithoutSeparator) {
  const CommandLine line = parse_ok("ATE0V1Q0Z");
  ASSERT_EQ(line.commands.size(), 4u);
  EXPECT_EQ(line.commands[0].name, "E");
  EXPECT_EQ(line.commands[1].name, "V");
  EXPECT_EQ(line.commands[2].name, "Q");
  EXPECT_EQ(line.commands[3].name, "Z");
}

TEST(AtCommandParser, AmpersandCommandIsOneName) {
  const CommandLine line = parse_ok("AT&F&D2");
  ASSERT_EQ(line.commands.size(), 2u);
  EXPECT_EQ(line.commands[0].name, "&F");
  EXPECT_EQ(line.commands[0].form, CommandForm::kAction);
  EXPECT_EQ(line.commands[1].name, "&D");
  EXPECT_EQ(line.commands[1].params, std::vector<Parameter>{Parameter::of_number(2)});
}

TEST(AtCommandParser, SRegisterSet) {
  const Command command = single("ATS0=2");
  EXPECT_EQ(command.kind, CommandKind::kSRegister);
  EXPECT_EQ(command.name, "S0");
  EXPECT_EQ(command.form, CommandForm::kSet);
  EXPECT_EQ(command.params, std::vector<Parameter>{Parameter::of_number(2)});
}

TEST(AtCommandParser, SRegisterRead) {
  const Command command = single("ATS07?");
  EXPECT_EQ(command.name, "S7");
  EXPECT_EQ(command.form, CommandForm::kRead);
}

TEST(AtCommandParser, SRegisterTest) {
  EXPECT_EQ(single("ATS0=?").form, CommandForm::kTest);
}

TEST(AtCommandParser, SRegisterWithoutValueSetsDefault) {
  EXPECT_EQ(single("ATS0=").params, std::vector<Parameter>{Parameter::empty()});
}

TEST(AtCommandParser, SRegisterAbove255IsOutOfRange) {
  EXPECT_EQ(parse_error("ATS256=1").reason, ErrorReason::kNumberOutOfRange);
}

TEST(AtCommandParser, SRegisterWithoutOperatorIsRejected) {
  EXPECT_EQ(parse_error("ATS7").reason, ErrorReason::kUnexpectedCharacter);
}

TEST(AtCommandParser, ExtendedActionForm) {
  const Command command = single("AT+CGMI");
  EXPECT_EQ(command.kind, CommandKind::kExtended);
  EXPECT_EQ(command.form, CommandForm::kAction);
}

TEST(AtCommandParser, ExtendedReadForm) {
  const Command command = single("AT+CREG?");
  EXPECT_EQ(command.name, "+CREG");
  EXPECT_EQ(command.form, CommandForm::kRead);
}

TEST(AtCommandParser, ExtendedTestForm) {
  EXPECT_EQ(single("AT+CREG=?").form, CommandForm::kTest);
}

TEST(AtCommandParser, ExtendedSetFormWithNumber) {
  const Command command = single("AT+CMGF=1");
  EXPECT_EQ(command.form, CommandForm::kSet);
  EXPECT_EQ(command.params, std::vector<Parameter>{Parameter::of_number(1)});
}

TEST(AtCommandParser, VendorPrefixIsExtended) {
  EXPECT_EQ(single("AT^SYSINFO").name, "^SYSINFO");
}

TEST(AtCommandParser, ParameterListMixesNumbersStringsAndEmpties) {
  const Command command = single("AT+CMGL=,1,\"REC READ\",");
  const std::vector<Parameter> expected = {Parameter::empty(), Parameter::of_number(1),
                                           Parameter::of_string("REC READ"), Parameter::empty()};
  EXPECT_EQ(command.params, expected);
}

TEST(AtCommandParser, SetWithNothingAfterEqualsHasOneEmptyParameter) {
  EXPECT_EQ(single("AT+CMGF=").params, std::vector<Parameter>{Parameter::empty()});
}

TEST(AtCommandParser, StringHexEscapesAreDecoded) {
  const Command command = single(R"(AT+CPBW=1,"say \22hi\22 \5C\0d")");
  EXPECT_EQ(command.params[1], Parameter::of_string("say \"hi\" \\\r"));
}

TEST(AtCommandParser, BackslashWithoutTwoHexDigitsIsInvalidEscape) {
  const ParseError error = parse_error(R"(AT+CPBW=1,"a\zz")");
  EXPECT_EQ(error.reason, ErrorReason::kInvalidEscape);
  EXPECT_EQ(error.offset, 12u);
}

TEST(AtCommandParser, EscapeCutShortByEndOfLineIsInvalidEscape) {
  EXPECT_EQ(parse_error(R"(AT+CPBW=1,"a\4)").reason, ErrorReason::kInvalidEscape);
}

TEST(AtCommandParser, StringWithoutClosingQuoteIsUnterminated) {
  EXPECT_EQ(parse_error("AT+CMGS=\"+4912").reason, ErrorReason::kUnterminatedString);
}

TEST(AtCommandParser, UnquotedStringParameterIsRejected) {
  EXPECT_EQ(parse_error("AT+CPMS=SM").reason, ErrorReason::kUnquotedString);
}

TEST(AtCommandParser, NumberAbove32BitsIsOutOfRange) {
  EXPECT_EQ(parse_error("AT+CMGR=4294967296").reason, ErrorReason::kNumberOutOfRange);
  EXPECT_EQ(single("AT+CMGR=4294967295").params[0], Parameter::of_number(4294967295u));
}

TEST(AtCommandParser, MoreThanMaxParametersIsRejected) {
  std::string line = "AT+X=0";
  for (int i = 0; i < 40; ++i) line += ",0";
  EXPECT_EQ(parse_error(line).reason, ErrorReason::kTooManyParameters);
}

TEST(AtCommandParser, CompoundLineSeparatesExtendedCommandsWithSemicolon) {
  const CommandLine line = parse_ok("AT+CMGF=1;+CSCS=\"GSM\";E0");
  ASSERT_EQ(line.commands.size(), 3u);
  EXPECT_EQ(line.commands[0].name, "+CMGF");
  EXPECT_EQ(line.commands[1].name, "+CSCS");
  EXPECT_EQ(line.commands[1].params[0], Parameter::of_string("GSM"));
  EXPECT_EQ(line.commands[2].name, "E");
}

TEST(AtCommandParser, CompoundLineMayEndWithSemicolon) {
  EXPECT_EQ(parse_ok("AT+CMGF=1;").commands.size(), 1u);
}

TEST(AtCommandParser, ExtendedCommandFollowedWithoutSemicolonIsMissingSeparator) {
  EXPECT_EQ(parse_error("AT+CMGF=1E0").reason, ErrorReason::kMissingSeparator);
  EXPECT_EQ(parse_error("AT+CREG?+CSQ").reason, ErrorReason::kMissingSeparator);
}

TEST(AtCommandParser, SpacesOutsideStringsAreIgnored) {
  const Command command = single("AT + CMGS = \"a b\" , 145");
  EXPECT_EQ(command.params[0], Parameter::of_string("a b"));
  EXPECT_EQ(command.params[1], Parameter::of_number(145));
}

TEST(AtCommandParser, ExtendedNameLongerThan16IsRejected) {
  EXPECT_EQ(parse_error("AT+ABCDEFGHIJKLMNOPQ").reason, ErrorReason::kNameTooLong);
  EXPECT_EQ(single("AT+ABCDEFGHIJKLMNOP").name, "+ABCDEFGHIJKLMNOP");
}

TEST(AtCommandParser, ControlByteInLineIsRejectedAtItsOffset) {
  const ParseError error = parse_error(std::string("AT+CG\0MI", 8));
  EXPECT_EQ(error.reason, ErrorReason::kControlCharacter);
  EXPECT_EQ(error.offset, 5u);
}

TEST(AtCommandParser, ByteAbove127OutsideStringIsUnexpected) {
  EXPECT_EQ(parse_error("AT\xff").reason, ErrorReason::kUnexpectedCharacter);
}

TEST(AtCommandParser, VoiceDialEndsWithSemicolon) {
  const Command command = single("ATD+4930123456;");
  EXPECT_EQ(command.kind, CommandKind::kDial);
  EXPECT_EQ(command.dial.number, "+4930123456");
  EXPECT_TRUE(command.dial.voice);
}

TEST(AtCommandParser, DialWithoutSemicolonIsDataCall) {
  const Command command = single("ATD*99#");
  EXPECT_EQ(command.dial.number, "*99#");
  EXPECT_FALSE(command.dial.voice);
}

TEST(AtCommandParser, CommandsMayFollowVoiceDial) {
  const CommandLine line = parse_ok("ATD112;+CLCC");
  ASSERT_EQ(line.commands.size(), 2u);
  EXPECT_EQ(line.commands[1].name, "+CLCC");
}

TEST(AtCommandParser, DialClirAndCugSuffixes) {
  const Command command = single("ATD123Ig;");
  EXPECT_EQ(command.dial.clir, std::optional<bool>(true));
  EXPECT_EQ(command.dial.cug, std::optional<bool>(false));
}

TEST(AtCommandParser, DialFormattingCharactersAreDropped) {
  EXPECT_EQ(single("ATD (030) 123-45;").dial.number, "03012345");
}

TEST(AtCommandParser, DialModifiersAreKept) {
  EXPECT_EQ(single("ATDT0,w123;").dial.number, "T0,W123");
}

TEST(AtCommandParser, PlusInsideDialStringIsInvalid) {
  EXPECT_EQ(parse_error("ATD12+3;").reason, ErrorReason::kInvalidDialString);
}

TEST(AtCommandParser, PhonebookDialIsRefused) {
  EXPECT_EQ(parse_error("ATD>SM1;").reason, ErrorReason::kInvalidDialString);
}

TEST(AtCommandParser, DialWithoutDigitsIsInvalid) {
  EXPECT_EQ(parse_error("ATD;").reason, ErrorReason::kInvalidDialString);
  EXPECT_EQ(parse_error("ATD+;").reason, ErrorReason::kInvalidDialString);
}

TEST(AtCommandParser, DigitAfterClirSuffixIsInvalid) {
  EXPECT_EQ(parse_error("ATD12I3;").reason, ErrorReason::kInvalidDialString);
}

TEST(AtCommandParser, DialStringAboveLimitIsTooLong) {
  EXPECT_EQ(parse_error("ATD" + std::string(65, '1') + ";").reason, ErrorReason::kDialStringTooLong);
  EXPECT_EQ(single("ATD" + std::string(64, '1') + ";").dial.number.size(), 64u);
}

}  // namespace
}  // namespace twofold::modem::at
