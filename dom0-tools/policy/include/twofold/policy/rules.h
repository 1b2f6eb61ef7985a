#pragma once
// Stable rule ids. Findings carry them so that they can be grepped, suppressed in review
// notes and looked up in docs/policy.md; never rename one, add a new one instead.
#include <span>
#include <string_view>

#include "twofold/policy/finding.h"

namespace twofold::policy {

struct RuleInfo {
  std::string_view id;
  Severity severity;
  std::string_view summary;
};

// Every rule the loader and the checker can report, in documentation order.
std::span<const RuleInfo> all_rules() noexcept;
const RuleInfo* find_rule(std::string_view id) noexcept;

namespace rule {
// The file itself.
inline constexpr std::string_view kIoUnreadable = "io.unreadable";
inline constexpr std::string_view kIoTooLarge = "io.too-large";
inline constexpr std::string_view kTomlSyntax = "toml.syntax";
inline constexpr std::string_view kTomlUnsupportedCharacter = "toml.unsupported-character";
// Shape of the document.
inline constexpr std::string_view kUnsupportedVersion = "schema.unsupported-version";
inline constexpr std::string_view kUnknownKey = "schema.unknown-key";
inline constexpr std::string_view kMissingKey = "schema.missing-key";
inline constexpr std::string_view kWrongType = "schema.wrong-type";
inline constexpr std::string_view kOutOfRange = "schema.out-of-range";
inline constexpr std::string_view kInvalidValue = "schema.invalid-value";
inline constexpr std::string_view kInvalidPath = "schema.invalid-path";
inline constexpr std::string_view kTooMany = "schema.too-many";
// Personas.
inline constexpr std::string_view kNameInvalid = "persona.name-invalid";
inline constexpr std::string_view kNameReserved = "persona.name-reserved";
inline constexpr std::string_view kNameDuplicate = "persona.name-duplicate";
inline constexpr std::string_view kSecureCount = "persona.secure-count";
inline constexpr std::string_view kPersonalCount = "persona.personal-count";
inline constexpr std::string_view kDisksWithoutStorage = "persona.disks-without-storage";
inline constexpr std::string_view kDiskTargetDuplicate = "persona.disk-target-duplicate";
inline constexpr std::string_view kDiskPathDuplicate = "persona.disk-path-duplicate";
inline constexpr std::string_view kPinRetriesUnencrypted = "persona.pin-retries-unencrypted";
inline constexpr std::string_view kNetworkNameInvalid = "persona.network-name-invalid";
inline constexpr std::string_view kNetworkDuplicate = "persona.network-duplicate";
inline constexpr std::string_view kReachInvalid = "persona.reach-invalid";
inline constexpr std::string_view kSubnetInvalid = "persona.subnet-invalid";
inline constexpr std::string_view kSubnetOverlap = "persona.subnet-overlap";
inline constexpr std::string_view kOrganisationNetworkInvalid = "organisation.network-invalid";
// The secure persona.
inline constexpr std::string_view kSecureNoCamera = "secure.no-camera";
inline constexpr std::string_view kSecureNoGps = "secure.no-gps";
inline constexpr std::string_view kSecureNoWifi = "secure.no-wifi";
inline constexpr std::string_view kSecureNoBluetooth = "secure.no-bluetooth";
inline constexpr std::string_view kSecureNoUsb = "secure.no-usb";
inline constexpr std::string_view kSecureEncryptedStorage = "secure.encrypted-storage";
inline constexpr std::string_view kSecureNoSharedDisk = "secure.no-shared-disk";
inline constexpr std::string_view kSecureNoSharedNetwork = "secure.no-shared-network";
inline constexpr std::string_view kSecureNetworkUnencrypted = "secure.network-unencrypted";
inline constexpr std::string_view kSecureReachOutsideOrganisation = "secure.reach-outside-organisation";
// Foreground.
inline constexpr std::string_view kForegroundUnknown = "foreground.unknown-persona";
inline constexpr std::string_view kForegroundNoDisplay = "foreground.no-display";
// Resources.
inline constexpr std::string_view kMemoryOvercommit = "resources.memory-overcommit";
inline constexpr std::string_view kVcpusExceedBoard = "resources.vcpus-exceed-board";
inline constexpr std::string_view kVcpuOvercommit = "resources.vcpu-overcommit";
// Hardware key.
inline constexpr std::string_view kKeyUnknown = "hardware-key.unknown-key";
inline constexpr std::string_view kKeyDevicePath = "hardware-key.device-path";
inline constexpr std::string_view kKeyTiming = "hardware-key.timing";
inline constexpr std::string_view kKeyUnusedTiming = "hardware-key.unused-timing";
// Modem.
inline constexpr std::string_view kModemChannelShared = "modem.channel-shared";
inline constexpr std::string_view kModemDialWithoutCall = "modem.dial-without-call";
inline constexpr std::string_view kModemAnswerWithoutCall = "modem.answer-without-call";
inline constexpr std::string_view kModemRouteUnknownPersona = "modem.route-unknown-persona";
inline constexpr std::string_view kModemRouteCannotAnswer = "modem.route-cannot-answer";
inline constexpr std::string_view kModemRouteEmptyMatch = "modem.route-empty-match";
inline constexpr std::string_view kModemRouteDuplicate = "modem.route-duplicate";
inline constexpr std::string_view kModemCalledLineInvalid = "modem.called-line-invalid";
inline constexpr std::string_view kModemNumbersInClear = "modem.numbers-in-clear";
inline constexpr std::string_view kModemSmsUnlimited = "modem.sms-unlimited";
// Audit.
inline constexpr std::string_view kAuditKeyBesideLog = "audit.key-beside-log";
inline constexpr std::string_view kAuditFsyncCheckpoint = "audit.fsync-checkpoint-only";
inline constexpr std::string_view kAuditKeepTooSmall = "audit.keep-too-small";
}  // namespace rule

}  // namespace twofold::policy
