#pragma once
// Audit records of the mediator: refused commands, routed calls and SMS. Records go to an
// AuditSink: the backend forwards them to the manager (which owns the audit Writer),
// tests collect them. Phone numbers appear as the policy's number_logging says.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "twofold/audit/format.h"
#include "twofold/modem/at/command.h"
#include "twofold/modem/mediator/command_policy.h"
#include "twofold/policy/policy.h"

namespace twofold::modem::mediator {

class AuditSink {
 public:
  virtual ~AuditSink() = default;
  virtual void record(audit::Event event) = 0;
};

// Clear, keyed hash (HMAC-SHA256, first 16 bytes in hex: the same number always maps to
// the same value within one key, so calls can be correlated without being readable), or
// nothing. The key is the manager's per-installation secret, never a guest's.
class NumberRedactor {
 public:
  static constexpr std::size_t kMinKeyBytes = 16;
  static constexpr std::size_t kHashBytes = 16;

  // Throws std::invalid_argument when hashing is asked for with a key shorter than
  // kMinKeyBytes (a short key makes the hash of a 15-digit number brute-forceable), and
  // std::runtime_error when OpenSSL cannot compute HMAC-SHA256 (checked here, once, so that
  // OpenSSL has loaded what it needs before a confined process forbids opening files).
  NumberRedactor(policy::NumberLogging mode, std::vector<std::uint8_t> key);

  // nullopt: the number must not appear at all.
  std::optional<std::string> redact(std::string_view number) const;
  policy::NumberLogging mode() const noexcept { return mode_; }

 private:
  policy::NumberLogging mode_;
  std::vector<std::uint8_t> key_;
};

enum class CallDirection : std::uint8_t { kIncoming, kOutgoing };

class AuditReporter {
 public:
  AuditReporter(AuditSink& sink, NumberRedactor redactor) : sink_(sink), redactor_(std::move(redactor)) {}

  // kind "modem.refuse": the command's name and form, the reason, the family, and for a
  // dial or an SMS send the number as number_logging says.
  void refused(std::string_view persona, const at::Command& command, const Refusal& refusal);
  // kind "modem.refuse" for a line that could not be parsed (no command to name).
  void malformed(std::string_view persona, std::string_view error_reason);
  // kind "modem.refuse", reason "suppressed": how many refusals were over the persona's
  // record budget (RefusalLimiter) and are counted here instead of recorded one by one.
  void suppressed(std::string_view persona, std::uint64_t count);
  // kind "modem.call": a call placed by or routed to a persona.
  void call(std::string_view persona, CallDirection direction, std::string_view number);
  // kind "modem.sms": an SMS sent by or routed to a persona.
  void sms(std::string_view persona, CallDirection direction, std::string_view number);

 private:
  void add_number(nlohmann::json& fields, std::string_view number) const;

  AuditSink& sink_;
  NumberRedactor redactor_;
};

}  // namespace twofold::modem::mediator
