// Personas on Xen console pages (xencons_interface layout) instead of in-memory streams:
// ring back-pressure for a flood, isolation, and a guest corrupting its indices.
#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <cstring>

#include "mediator_harness.h"
#include "twofold/modem/mediator/console_channel.h"

namespace twofold::modem::mediator::testing {
namespace {

// The guest's side of struct xencons_interface, as Linux hvc_xen drives it.
class GuestConsole {
 public:
  static constexpr std::size_t kIn = 0, kInSize = 1024, kOut = 1024, kOutSize = 2048;
  static constexpr std::size_t kInCons = 3072, kInProd = 3076, kOutCons = 3080, kOutProd = 3084;

  std::span<std::byte> page() { return page_; }

  // Writes what fits in `out`; returns how many bytes.
  std::size_t write(std::string_view bytes) {
    const std::uint32_t cons = index(kOutCons), prod = index(kOutProd);
    std::size_t n = 0;
    while (n < bytes.size() && prod + n - cons < kOutSize) {
      page_[kOut + ((prod + n) & (kOutSize - 1))] = static_cast<std::byte>(bytes[n]);
      ++n;
    }
    set_index(kOutProd, static_cast<std::uint32_t>(prod + n));
    return n;
  }
  std::string read() {
    const std::uint32_t cons = index(kInCons), prod = index(kInProd);
    std::string out;
    for (std::uint32_t i = cons; i != prod; ++i) {
      out.push_back(static_cast<char>(page_[kIn + (i & (kInSize - 1))]));
    }
    set_index(kInCons, prod);
    return out;
  }
  void set_index(std::size_t offset, std::uint32_t value) {
    std::atomic_ref<std::uint32_t>(*reinterpret_cast<std::uint32_t*>(&page_[offset])).store(value);
  }
  std::uint32_t index(std::size_t offset) {
    return std::atomic_ref<std::uint32_t>(*reinterpret_cast<std::uint32_t*>(&page_[offset])).load();
  }

 private:
  alignas(4096) std::array<std::byte, 4096> page_{};
};

class RingRig : public ModemPort, public PersonaPort {
 public:
  using Clock = Mediator::Clock;
  RingRig()
      : mediator_(default_config(), *this, *this, audit, NumberRedactor(policy::NumberLogging::clear, {}),
                  [](std::string_view) {}) {
    mediator_.start(now);
    run();
  }
  void to_modem(std::string_view bytes) override { down_ += bytes; }
  void to_persona(PersonaIndex persona, std::string_view bytes) override { channels_[persona].queue_output(bytes); }

  // The backend's loop body: guest rings -> mediator -> modem -> mediator -> guest rings.
  std::optional<rings::RingFault> run(bool one_step = false) {
    bool moved = true;
    while (moved) {
      for (PersonaIndex p = 0; p < 2; ++p) {
        if (auto fault = channels_[p].pump_in(mediator_, p, now)) return fault;
      }
      const std::string down = std::exchange(down_, {});
      if (!down.empty()) modem.receive(down);
      const std::string up = std::exchange(up_, {});
      if (!up.empty()) mediator_.from_modem(up, now);
      for (PersonaIndex p = 0; p < 2; ++p) {
        if (auto fault = channels_[p].flush_output()) return fault;
      }
      moved = !down.empty() || !up.empty();
      if (one_step) break;
    }
    return std::nullopt;
  }

  std::array<GuestConsole, 2> guests;
  CollectingSink audit;
  Clock::time_point now{};
  sim::Modem modem{[this](std::string_view bytes) { up_ += bytes; }};
  std::string modem_lines() { return modem.state()["last_line"]; }

 private:
  std::string down_, up_;
  std::array<ConsoleChannel, 2> channels_{ConsoleChannel(guests[0].page()), ConsoleChannel(guests[1].page())};
  Mediator mediator_;
};

TEST(ConsoleChannel, SecureDialsOverItsRingAndThePersonalRingStaysSilent) {
  RingRig rig;
  rig.guests[kSecure].write("ATE0\rATD+4930123456;\r");
  rig.guests[kPersonal].write("ATE0\rAT+CLCC\r");
  ASSERT_FALSE(rig.run());
  EXPECT_EQ(rig.guests[kSecure].read(), "ATE0\r\r\nOK\r\n\r\nOK\r\n");
  EXPECT_EQ(rig.guests[kPersonal].read(), "ATE0\r\r\nOK\r\n\r\nOK\r\n");
  ASSERT_FALSE(rig.modem.remote_hangup().has_value());
  ASSERT_FALSE(rig.run());
  EXPECT_EQ(rig.guests[kSecure].read(), "\r\nNO CARRIER\r\n");
  EXPECT_EQ(rig.guests[kPersonal].read(), "");
}

TEST(ConsoleChannel, FloodLargerThanTheRingIsServedWholeWithoutStallingTheOther) {
  RingRig rig;
  rig.guests[kPersonal].write("ATE0\r");
  rig.guests[kSecure].write("ATE0\r");
  ASSERT_FALSE(rig.run());
  rig.guests[kPersonal].read();
  rig.guests[kSecure].read();
  std::string flood;
  for (int i = 0; i < 600; ++i) flood += "AT+CSQ\r";  // 4200 bytes: twice the out ring
  std::size_t sent = rig.guests[kPersonal].write(flood);
  EXPECT_LT(sent, flood.size());  // the ring is full: the guest must wait
  rig.guests[kSecure].write("AT+CGMI\r");
  ASSERT_FALSE(rig.run(/*one_step=*/true));
  ASSERT_FALSE(rig.run(/*one_step=*/true));
  ASSERT_FALSE(rig.run(/*one_step=*/true));
  // Within three exchanges (one flood command in flight, then the secure one) it is done.
  EXPECT_EQ(rig.guests[kSecure].read(), "\r\nTwofold\r\n\r\nOK\r\n");
  std::string answers;
  for (int round = 0; round < 1000 && sent < flood.size(); ++round) {
    ASSERT_FALSE(rig.run());
    answers += rig.guests[kPersonal].read();
    sent += rig.guests[kPersonal].write(std::string_view(flood).substr(sent));
  }
  // The guest keeps reading its `in` ring until the answers stop.
  for (int round = 0; round < 1000; ++round) {
    ASSERT_FALSE(rig.run());
    const std::string more = rig.guests[kPersonal].read();
    if (more.empty()) break;
    answers += more;
  }
  std::size_t count = 0;
  for (auto pos = answers.find("+CSQ: "); pos != std::string::npos; pos = answers.find("+CSQ: ", pos + 1)) ++count;
  EXPECT_EQ(count, 600U);  // none lost
}

TEST(ConsoleChannel, CorruptedProducerIndexIsReportedAsThatGuestsFault) {
  RingRig rig;
  rig.guests[kPersonal].set_index(GuestConsole::kOutProd, 1U << 20);  // claims 1 MiB unread
  const auto fault = rig.run();
  ASSERT_TRUE(fault.has_value());
  EXPECT_EQ(*fault, rings::RingFault::producer_overflow);
}

}  // namespace
}  // namespace twofold::modem::mediator::testing
