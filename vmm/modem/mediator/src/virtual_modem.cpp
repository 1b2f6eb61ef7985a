#include "twofold/modem/mediator/virtual_modem.h"

#include <algorithm>

namespace twofold::modem::mediator {
namespace {

struct SettingSpec {
  std::string_view name;
  std::array<std::uint32_t, 5> defaults;
  std::array<std::uint32_t, 5> maxima;
  std::size_t count;
  std::string_view test;  // the =? answer ("" when the test form is forwarded)
};

// Defaults as 27.007 / 27.005 give them, except +CNMI (2,1: the physical modem's, so that a
// persona that never sets it still gets +CMTI, as before).
constexpr std::array kSpecs = {
    SettingSpec{"+CMGF", {0}, {1}, 1, "+CMGF: (0,1)"},
    SettingSpec{"+CNMI", {2, 1, 0, 0, 0}, {2, 3, 3, 2, 1}, 5, "+CNMI: (0-2),(0-3),(0-3),(0-2),(0,1)"},
    SettingSpec{"+CRC", {0}, {1}, 1, "+CRC: (0,1)"},
    SettingSpec{"+CREG", {0}, {2}, 1, ""},
    SettingSpec{"+CGREG", {0}, {2}, 1, ""},
    SettingSpec{"+CEREG", {0}, {5}, 1, ""},
    SettingSpec{"+CLIP", {0}, {1}, 1, ""},
    SettingSpec{"+CCWA", {0}, {1}, 1, "+CCWA: (0,1)"},
    SettingSpec{"+CLIR", {0}, {2}, 1, "+CLIR: (0-2)"},
    SettingSpec{"+COLP", {0}, {1}, 1, "+COLP: (0,1)"},
};

const SettingSpec* spec_of(std::string_view name) {
  const auto* it = std::find_if(kSpecs.begin(), kSpecs.end(), [&](const SettingSpec& s) { return s.name == name; });
  return it == kSpecs.end() ? nullptr : &*it;
}

LocalAnswer ok(std::vector<std::string> info = {}) { return LocalAnswer{std::move(info), true, {}}; }
LocalAnswer failed(std::string error = {}) { return LocalAnswer{{}, false, std::move(error)}; }

std::string joined(std::string_view name, const std::vector<std::uint32_t>& values) {
  std::string out(name);
  out += ": ";
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i != 0) out += ',';
    out += std::to_string(values[i]);
  }
  return out;
}

constexpr std::string_view kSmsNotAllowed = "+CMS ERROR: 302";

}  // namespace

void VirtualModem::reset() {
  echo_ = true;
  cmee_ = ErrorFormat::kPlain;
  s_.fill(0);
  s_[3] = '\r';
  s_[4] = '\n';
  s_[5] = '\b';
  settings_.clear();
  for (const SettingSpec& spec : kSpecs) {
    settings_.push_back(Setting{spec.name, std::vector<std::uint32_t>(spec.defaults.begin(),
                                                                      spec.defaults.begin() + static_cast<std::ptrdiff_t>(spec.count))});
  }
  ccwa_enabled_ = true;
}

VirtualModem::Setting* VirtualModem::find(std::string_view name) {
  auto it = std::find_if(settings_.begin(), settings_.end(), [&](const Setting& s) { return s.name == name; });
  return it == settings_.end() ? nullptr : &*it;
}
const VirtualModem::Setting* VirtualModem::find(std::string_view name) const {
  auto it = std::find_if(settings_.begin(), settings_.end(), [&](const Setting& s) { return s.name == name; });
  return it == settings_.end() ? nullptr : &*it;
}

std::uint32_t VirtualModem::value(std::string_view setting) const noexcept {
  const Setting* s = find(setting);
  return s == nullptr || s->values.empty() ? 0 : s->values.front();
}

LocalAnswer VirtualModem::answer(const at::Command& command, const StorageView& storage) {
  const at::CommandForm form = command.form;
  const std::uint32_t first = !command.params.empty() && command.params[0].is_number() ? command.params[0].number : 0;
  const bool first_ok = command.params.empty() || command.params[0].is_number() || command.params[0].is_empty();
  const std::string& name = command.name;

  if (command.kind == at::CommandKind::kSRegister) {
    const auto index = static_cast<std::size_t>(std::stoul(name.substr(1)));  // the parser bounded it
    if (form == at::CommandForm::kRead) {
      std::string v = std::to_string(s_[index]);
      return ok({std::string(3 - std::min<std::size_t>(3, v.size()), '0') + v});
    }
    if (form == at::CommandForm::kTest) return ok({"(0-127)"});
    if (form == at::CommandForm::kSet && first_ok && first <= 127) {
      s_[index] = static_cast<std::uint8_t>(first);
      return ok();
    }
    return failed();
  }
  if (command.kind == at::CommandKind::kBasic) {
    if (name == "E") {
      if (first > 1) return failed();
      echo_ = first != 0;
      return ok();
    }
    // Numeric (V0) and quiet (Q1) results are not offered: the mediator speaks V1 Q0.
    if (name == "V") return command.params.empty() || first == 1 ? ok() : failed();
    if (name == "Q") return first == 0 ? ok() : failed();
    if (name == "Z" || name == "&F") {
      reset();
      return ok();
    }
    return failed();
  }
  if (name == "+CMEE") {
    if (form == at::CommandForm::kSet && first_ok && first <= 2) {
      cmee_ = static_cast<ErrorFormat>(first);
      return ok();
    }
    if (form == at::CommandForm::kRead) return ok({"+CMEE: " + std::to_string(static_cast<int>(cmee_))});
    if (form == at::CommandForm::kTest) return ok({"+CMEE: (0-2)"});
    return failed();
  }
  if (name == "+CPBS") {
    // The phonebook storage stays "SM" for everyone: "LD"/"MC"/"RC" would list the other
    // persona's calls, and a persona's choice would change what the other one reads.
    if (form == at::CommandForm::kRead) return ok({"+CPBS: \"SM\""});
    if (form == at::CommandForm::kTest) return ok({"+CPBS: (\"SM\")"});
    if (command.params.size() == 1 && command.params[0].is_string() && command.params[0].text == "SM") return ok();
    return failed();
  }
  if (name == "+CPMS") {
    // The persona's own storage: its messages and its quota, never the SIM's occupancy.
    const std::string counts = std::to_string(storage.used) + "," + std::to_string(storage.capacity);
    if (form == at::CommandForm::kTest) return ok({"+CPMS: (\"SM\"),(\"SM\"),(\"SM\")"});
    if (form == at::CommandForm::kRead) {
      const std::string one = "\"SM\"," + counts;
      return ok({"+CPMS: " + one + "," + one + "," + one});
    }
    if (command.params.empty() || command.params.size() > 3) return failed(std::string(kSmsNotAllowed));
    for (const at::Parameter& p : command.params) {
      if (!p.is_empty() && !(p.is_string() && p.text == "SM")) return failed(std::string(kSmsNotAllowed));
    }
    return ok({"+CPMS: " + counts + "," + counts + "," + counts});
  }
  if (name == "+CRSM") return ok();  // test form: no ranges to list
  const SettingSpec* spec = spec_of(name);
  Setting* setting = find(name);
  if (spec == nullptr || setting == nullptr) return failed();
  if (form == at::CommandForm::kTest) return spec->test.empty() ? failed() : ok({std::string(spec->test)});
  if (form == at::CommandForm::kRead) {
    if (name == "+CLIR" || name == "+COLP") {
      // <m> 2: "unknown". The network is not asked: its answer is the shared subscription's.
      return ok({name + ": " + std::to_string(setting->values[0]) + ",2"});
    }
    return ok({joined(name, setting->values)});
  }
  if (form != at::CommandForm::kSet) return failed();
  if (name == "+CCWA") {
    // +CCWA=[<n>[,<mode>[,<class>]]]: mode 0/1 switch the persona's own view, 2 asks it.
    std::optional<std::uint32_t> mode;
    if (command.params.size() > 1 && command.params[1].is_number()) mode = command.params[1].number;
    if (!first_ok || first > 1 || command.params.size() > 3 || (mode && *mode > 2)) return failed();
    if (!command.params.empty() && command.params[0].is_number()) setting->values[0] = first;
    if (mode == 2U) return ok({std::string("+CCWA: ") + (ccwa_enabled_ ? "1" : "0") + ",1"});
    if (mode) ccwa_enabled_ = *mode == 1;
    return ok();
  }
  if (command.params.size() > spec->count) return failed();
  std::vector<std::uint32_t> values = setting->values;
  for (std::size_t i = 0; i < command.params.size(); ++i) {
    const at::Parameter& p = command.params[i];
    if (p.is_empty()) continue;
    if (!p.is_number() || p.number > spec->maxima[i]) return failed();
    values[i] = p.number;
  }
  setting->values = std::move(values);
  return ok();
}

}  // namespace twofold::modem::mediator
