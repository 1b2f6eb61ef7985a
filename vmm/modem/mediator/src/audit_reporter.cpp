#include "twofold/modem/mediator/audit_reporter.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <array>
#include <stdexcept>

namespace twofold::modem::mediator {
namespace {

std::string hex(const std::uint8_t* bytes, std::size_t size) {
  static constexpr std::string_view kDigits = "0123456789abcdef";
  std::string out;
  out.reserve(size * 2);
  for (std::size_t i = 0; i < size; ++i) {
    out.push_back(kDigits[bytes[i] >> 4]);
    out.push_back(kDigits[bytes[i] & 0x0f]);
  }
  return out;
}

std::string_view direction_name(CallDirection direction) {
  return direction == CallDirection::kIncoming ? "incoming" : "outgoing";
}

}  // namespace

NumberRedactor::NumberRedactor(policy::NumberLogging mode, std::vector<std::uint8_t> key)
    : mode_(mode), key_(std::move(key)) {
  if (mode_ == policy::NumberLogging::hashed && key_.size() < kMinKeyBytes) {
    throw std::invalid_argument("number hashing key shorter than 16 bytes");
  }
  // One hash now: OpenSSL 3 reads its configuration and loads its providers on first use,
  // which opens files. The backend builds the redactor before it confines itself; the first
  // call after seccomp would be killed (it was, on the board, at the first dial).
  if (mode_ == policy::NumberLogging::hashed && !redact("0")) {
    throw std::runtime_error("HMAC-SHA256 is not available from OpenSSL");
  }
}

std::optional<std::string> NumberRedactor::redact(std::string_view number) const {
  switch (mode_) {
    case policy::NumberLogging::clear: return std::string(number);
    case policy::NumberLogging::omitted: return std::nullopt;
    case policy::NumberLogging::hashed: break;
  }
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int length = 0;
  const unsigned char* result =
      HMAC(EVP_sha256(), key_.data(), static_cast<int>(key_.size()),
           reinterpret_cast<const unsigned char*>(number.data()), number.size(), digest.data(), &length);
  if (result == nullptr || length < kHashBytes) {
    // Fail closed: an unhashable number is left out rather than written in clear.
    return std::nullopt;
  }
  return "hmac-sha256:" + hex(digest.data(), kHashBytes);
}

void AuditReporter::add_number(nlohmann::json& fields, std::string_view number) const {
  if (auto shown = redactor_.redact(number)) fields["number"] = *shown;
}

void AuditReporter::refused(std::string_view persona, const at::Command& command, const Refusal& refusal) {
  audit::Event event{"modem.refuse", std::string(persona), nlohmann::json::object()};
  event.fields["command"] = command.name;
  event.fields["form"] = std::string(at::to_string(command.form));
  event.fields["reason"] = std::string(to_string(refusal.reason));
  if (refusal.family) event.fields["family"] = std::string(policy::to_string(*refusal.family));
  if (command.kind == at::CommandKind::kDial) {
    add_number(event.fields, command.dial.number);
  } else if ((command.name == "+CMGS" || command.name == "+CMGW") && !command.params.empty() &&
             command.params[0].is_string()) {
    add_number(event.fields, command.params[0].text);
  }
  sink_.record(std::move(event));
}

void AuditReporter::malformed(std::string_view persona, std::string_view error_reason) {
  audit::Event event{"modem.refuse", std::string(persona), nlohmann::json::object()};
  event.fields["reason"] = "malformed";
  event.fields["error"] = std::string(error_reason);
  sink_.record(std::move(event));
}

void AuditReporter::suppressed(std::string_view persona, std::uint64_t count) {
  audit::Event event{"modem.refuse", std::string(persona), nlohmann::json::object()};
  event.fields["reason"] = "suppressed";
  event.fields["count"] = count;
  sink_.record(std::move(event));
}

void AuditReporter::call(std::string_view persona, CallDirection direction, std::string_view number) {
  audit::Event event{"modem.call", std::string(persona), nlohmann::json::object()};
  event.fields["direction"] = std::string(direction_name(direction));
  add_number(event.fields, number);
  sink_.record(std::move(event));
}

void AuditReporter::sms(std::string_view persona, CallDirection direction, std::string_view number) {
  audit::Event event{"modem.sms", std::string(persona), nlohmann::json::object()};
  event.fields["direction"] = std::string(direction_name(direction));
  add_number(event.fields, number);
  sink_.record(std::move(event));
}

}  // namespace twofold::modem::mediator
