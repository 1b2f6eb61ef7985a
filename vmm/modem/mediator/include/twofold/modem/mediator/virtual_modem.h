#pragma once
// The settings of one persona's virtual modem: everything the mediator answers itself (the
// persona-local class of the command table). One object per persona, nothing in it is shared,
// so no answer it gives can depend on the other persona. The physical modem keeps dom0's
// settings (E0 V1 +CMEE=1, URCs on); what a persona asked for is applied here, when its
// commands are sent (its +CMGF, its +CLIR) and when URCs are delivered to it (its +CLIP, +CREG).
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "twofold/modem/at/command.h"
#include "twofold/modem/at/limits.h"
#include "twofold/modem/mediator/command_policy.h"

namespace twofold::modem::mediator {

// What the persona's own SMS storage holds (for +CPMS).
struct StorageView {
  std::uint32_t used = 0;
  std::uint32_t capacity = 0;
};

struct LocalAnswer {
  std::vector<std::string> info;  // information lines, without "\r\n"
  bool ok = true;                 // false: the command is answered ERROR / +CME / +CMS
  std::string error;              // the error final ("" = ERROR per +CMEE)
};

class VirtualModem {
 public:
  VirtualModem() { reset(); }

  // ATZ / AT&F: the persona's settings back to their defaults (the physical modem is not touched).
  void reset();
  // Answers one persona-local command (classify() said kLocal).
  LocalAnswer answer(const at::Command& command, const StorageView& storage);

  bool echo() const noexcept { return echo_; }
  ErrorFormat cmee() const noexcept { return cmee_; }
  std::uint32_t cmgf() const noexcept { return value("+CMGF"); }
  bool wants(std::string_view urc_setting) const noexcept { return value(urc_setting) != 0; }
  // +CLIR n: 1 restrict, 2 allow, 0 subscription default (27.007 §7.7).
  std::uint32_t clir() const noexcept { return value("+CLIR"); }
  std::uint32_t value(std::string_view setting) const noexcept;
  char terminator() const noexcept { return static_cast<char>(s_[3]); }
  char backspace() const noexcept { return static_cast<char>(s_[5]); }

 private:
  struct Setting {
    std::string_view name;
    std::vector<std::uint32_t> values;
  };
  Setting* find(std::string_view name);
  const Setting* find(std::string_view name) const;

  bool echo_ = true;
  ErrorFormat cmee_ = ErrorFormat::kPlain;
  std::array<std::uint8_t, at::kMaxSRegister + 1> s_{};
  std::vector<Setting> settings_;
  bool ccwa_enabled_ = true;  // +CCWA=,1/0: the persona's own view of call waiting
};

}  // namespace twofold::modem::mediator
