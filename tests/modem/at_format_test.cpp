// Canonical re-serialisation of parsed command lines (what the mediator forwards).
#include <gtest/gtest.h>

#include "twofold/modem/at/format.h"

namespace twofold::modem::at {
namespace {

std::string canonical(std::string_view line) {
  auto parsed = parse_command_line(line);
  EXPECT_TRUE(parsed.ok()) << line;
  return parsed.ok() ? format_command_line(parsed.value()) : std::string{};
}

void expect_round_trip(std::string_view line) {
  auto parsed = parse_command_line(line);
  ASSERT_TRUE(parsed.ok()) << line;
  auto again = parse_command_line(format_command_line(parsed.value()));
  ASSERT_TRUE(again.ok()) << format_command_line(parsed.value());
  EXPECT_EQ(again.value(), parsed.value()) << line;
}

TEST(AtFormat, CaseAndSpacesAreNormalised) {
  EXPECT_EQ(canonical("at + cmgf = 1 ; e0"), "AT+CMGF=1;E0");
}

TEST(AtFormat, StringsAreRequotedWithEscapes) {
  EXPECT_EQ(canonical(R"(AT+CPBW=1,"a\22b\5c")"), R"(AT+CPBW=1,"a\22b\5C")");
}

TEST(AtFormat, FormsAndEmptyParametersSurvive) {
  EXPECT_EQ(canonical("AT+CREG?;+CREG=?;+CMGL=,1,;S0=;S7?;S0=?"), "AT+CREG?;+CREG=?;+CMGL=,1,;S0=S7?S0=?");
}

TEST(AtFormat, DialKeepsNumberSuffixesAndVoice) {
  EXPECT_EQ(canonical("ATD (030) 123-45 i G;+CLCC"), "ATD03012345iG;+CLCC");
}

TEST(AtFormat, EveryFormRoundTrips) {
  expect_round_trip("ATE0V1Q0&F&D2S0=2S7?");
  expect_round_trip("AT+CMGS=\"+4912\",145");
  expect_round_trip("AT+CMGF=");
  expect_round_trip("ATD*99#");
  expect_round_trip("ATD+4930;E1+CSQ;");
  expect_round_trip("AT+X=\"\xc3\xa4 \\0D\\0A\"");
}

}  // namespace
}  // namespace twofold::modem::at
