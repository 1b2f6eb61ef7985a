#include "twofold/policy/policy.h"

#include <algorithm>

namespace twofold::policy {

std::string_view to_string(Severity severity) noexcept {
  return severity == Severity::error ? "error" : "warning";
}

bool has_errors(const std::vector<Finding>& findings) noexcept {
  return std::any_of(findings.begin(), findings.end(),
                     [](const Finding& f) { return f.severity == Severity::error; });
}

void sort_by_position(std::vector<Finding>& findings) {
  std::stable_sort(findings.begin(), findings.end(), [](const Finding& a, const Finding& b) {
    if (a.where.line != b.where.line) return a.where.line < b.where.line;
    return a.where.column < b.where.column;
  });
}

// The spellings below are the ones the TOML file uses, so messages quote them verbatim.
std::string_view to_string(PersonaKind value) noexcept {
  switch (value) {
    case PersonaKind::personal: return "personal";
    case PersonaKind::secure: return "secure";
  }
  return "?";
}

std::string_view to_string(RestartPolicy value) noexcept {
  switch (value) {
    case RestartPolicy::never: return "never";
    case RestartPolicy::on_crash: return "on-crash";
    case RestartPolicy::always: return "always";
  }
  return "?";
}

std::string_view to_string(Gesture value) noexcept {
  switch (value) {
    case Gesture::press: return "press";
    case Gesture::double_press: return "double_press";
    case Gesture::long_press: return "long_press";
  }
  return "?";
}

std::string_view to_string(NumberLogging value) noexcept {
  switch (value) {
    case NumberLogging::clear: return "clear";
    case NumberLogging::hashed: return "hashed";
    case NumberLogging::omitted: return "omitted";
  }
  return "?";
}

std::string_view to_string(Tunnel value) noexcept {
  switch (value) {
    case Tunnel::wireguard: return "wireguard";
  }
  return "?";
}

std::string_view to_string(FsyncPolicy value) noexcept {
  switch (value) {
    case FsyncPolicy::every_record: return "record";
    case FsyncPolicy::every_checkpoint: return "checkpoint";
  }
  return "?";
}

std::string_view to_string(AtFamily value) noexcept {
  switch (value) {
    case AtFamily::call: return "call";
    case AtFamily::sms: return "sms";
    case AtFamily::network: return "network";
    case AtFamily::data: return "data";
    case AtFamily::sim: return "sim";
    case AtFamily::supplementary: return "supplementary";
    case AtFamily::phonebook: return "phonebook";
    case AtFamily::info: return "info";
  }
  return "?";
}

const Persona* Policy::find_persona(std::string_view name) const noexcept {
  const auto it = std::find_if(personas.begin(), personas.end(),
                               [&](const Persona& p) { return p.name.value == name; });
  return it == personas.end() ? nullptr : &*it;
}

}  // namespace twofold::policy
