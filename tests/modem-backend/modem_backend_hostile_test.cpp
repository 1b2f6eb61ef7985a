// One persona's console ring under abuse (garbage, binary, floods, a corrupted index) while
// the other persona keeps being served.
#include "backend_fixture.h"

namespace twofold::modem::backend::testing {
namespace {

using ModemBackendHostileTest = ModemBackendFixture;

TEST_F(ModemBackendHostileTest, GarbageFloodOnPersonalRingDoesNotStallSecure) {
  start_with_both_personas();
  // The personal guest keeps its ring full: binary garbage, overlong lines, half commands.
  std::string garbage;
  for (int i = 0; i < 4096; ++i) garbage.push_back(static_cast<char>((i * 37) % 256));
  garbage += "\rAT+CFUN=0\rAT+CGMI\r\x1b\x1a";
  std::size_t offset = 0;
  const auto keep_flooding = [&] {
    offset += personal.write(std::string_view(garbage).substr(offset % garbage.size()));
  };
  secure.received().clear();
  ASSERT_EQ(secure.write("AT+CGMI\r"), 8U);
  const auto started = std::chrono::steady_clock::now();
  ASSERT_TRUE(run_until([&] {
    keep_flooding();
    return has_final(secure.received());
  }));
  const auto took = std::chrono::steady_clock::now() - started;
  EXPECT_EQ(secure.received(), "\r\nTwofold\r\n\r\nOK\r\n");
  EXPECT_LT(took, std::chrono::seconds(2));
  EXPECT_GT(offset, 4096U);  // the flood was really being consumed meanwhile
  // The reserved command inside the flood never reached the modem.
  EXPECT_EQ(simulator_->modem().state()["cfun"], 1);
}

TEST_F(ModemBackendHostileTest, CorruptedProducerIndexClosesOnlyThatConsole) {
  start_with_both_personas();
  personal.set_out_prod(0x40000000U);
  personal.notify();
  ASSERT_TRUE(run_until([&] { return personal.backend_state() != "4"; }));
  EXPECT_EQ(command(secure, "AT+CGMI"), "\r\nTwofold\r\n\r\nOK\r\n");
  EXPECT_EQ(secure.backend_state(), "4");
}

TEST_F(ModemBackendHostileTest, PersonaThatStopsReadingDoesNotStallTheOther) {
  start_with_both_personas();
  // 200 commands' answers (3.4 KiB) into an `in` ring of 1 KiB that is never drained.
  personal.received().clear();
  personal.set_reading(false);
  std::string lines;
  for (int i = 0; i < 200; ++i) lines += "AT+CGMI\r";
  std::size_t written = 0;
  ASSERT_TRUE(run_until(
      [&] {
        written += personal.write(std::string_view(lines).substr(written));
        return written == lines.size();
      },
      std::chrono::seconds(20)));
  EXPECT_EQ(command(secure, "AT+CSQ").find("+CSQ:"), 2U);
  // The personal persona's answers wait for it (the ring is full, the rest is queued).
  EXPECT_EQ(personal.received(), "");
  personal.set_reading(true);
  ASSERT_TRUE(run_until([&] { return personal.received().size() >= 200 * 17; }));
  EXPECT_EQ(personal.received().substr(0, 17), "\r\nTwofold\r\n\r\nOK\r\n");
}

}  // namespace
}  // namespace twofold::modem::backend::testing
