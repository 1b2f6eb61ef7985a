#include "twofold/policy/rules.h"

#include <algorithm>
#include <array>

namespace twofold::policy {
namespace {

using enum Severity;

constexpr std::array kRules{
    RuleInfo{rule::kIoUnreadable, error, "the policy file cannot be read"},
    RuleInfo{rule::kIoTooLarge, error, "the policy file is larger than the size limit"},
    RuleInfo{rule::kTomlSyntax, error, "the file is not valid TOML"},
    RuleInfo{rule::kTomlUnsupportedCharacter, error, "a raw character the TOML parser of this build mishandles"},
    RuleInfo{rule::kUnsupportedVersion, error, "`version` is not a schema version this build reads"},
    RuleInfo{rule::kUnknownKey, error, "a key the schema does not define (often a typo)"},
    RuleInfo{rule::kMissingKey, error, "a required key is absent"},
    RuleInfo{rule::kWrongType, error, "a value has the wrong TOML type"},
    RuleInfo{rule::kOutOfRange, error, "a number or length is outside its allowed range"},
    RuleInfo{rule::kInvalidValue, error, "a value is not one of the allowed words or forms"},
    RuleInfo{rule::kInvalidPath, error, "a path is not absolute, contains '..' or control characters"},
    RuleInfo{rule::kTooMany, error, "a list has more entries than allowed"},
    RuleInfo{rule::kNameInvalid, error, "a persona name is not [a-z][a-z0-9-]{0,31}"},
    RuleInfo{rule::kNameReserved, error, "a persona is named 'foreground'"},
    RuleInfo{rule::kNameDuplicate, error, "two personas have the same name"},
    RuleInfo{rule::kSecureCount, error, "there is not exactly one secure persona"},
    RuleInfo{rule::kPersonalCount, error, "there is not exactly one personal persona"},
    RuleInfo{rule::kDisksWithoutStorage, error, "a persona has disks but storage = false"},
    RuleInfo{rule::kDiskTargetDuplicate, error, "two disks of a persona have the same target"},
    RuleInfo{rule::kDiskPathDuplicate, error, "a persona attaches the same image twice"},
    RuleInfo{rule::kPinRetriesUnencrypted, error, "pin_retries is set on a disk that is not encrypted"},
    RuleInfo{rule::kNetworkNameInvalid, error, "a network name is not [a-z][a-z0-9-]{0,14}"},
    RuleInfo{rule::kNetworkDuplicate, error, "a persona joins the same network twice"},
    RuleInfo{rule::kReachInvalid, error, "a `reach` entry is not internet, lan, dom0 or a CIDR"},
    RuleInfo{rule::kSubnetInvalid, error, "a network's subnet is not an IPv4 prefix of /8 to /30"},
    RuleInfo{rule::kSubnetOverlap, error, "two networks' subnets overlap, or one overlaps the organisation"},
    RuleInfo{rule::kOrganisationNetworkInvalid, error, "an [organisation] network is not an IPv4 prefix"},
    RuleInfo{rule::kSecureNoCamera, error, "the secure persona is given a camera"},
    RuleInfo{rule::kSecureNoGps, error, "the secure persona is given GPS"},
    RuleInfo{rule::kSecureNoWifi, error, "the secure persona is given Wi-Fi"},
    RuleInfo{rule::kSecureNoBluetooth, error, "the secure persona is given Bluetooth"},
    RuleInfo{rule::kSecureNoUsb, error, "the secure persona is given USB"},
    RuleInfo{rule::kSecureEncryptedStorage, error, "a writable disk of the secure persona is not encrypted"},
    RuleInfo{rule::kSecureNoSharedDisk, error, "the secure persona shares a disk image with another persona"},
    RuleInfo{rule::kSecureNoSharedNetwork, error, "the secure persona shares a network with another persona"},
    RuleInfo{rule::kSecureNetworkUnencrypted, error, "a network of the secure persona has no tunnel"},
    RuleInfo{rule::kSecureReachOutsideOrganisation, error, "the secure persona's reach leaves the organisation's networks"},
    RuleInfo{rule::kForegroundUnknown, error, "default_foreground names no persona"},
    RuleInfo{rule::kForegroundNoDisplay, error, "the default foreground persona has no display"},
    RuleInfo{rule::kMemoryOvercommit, error, "dom0 plus persona memory exceeds the board's memory"},
    RuleInfo{rule::kVcpusExceedBoard, error, "a persona has more vCPUs than the board has CPUs"},
    RuleInfo{rule::kVcpuOvercommit, warning, "the personas together have more vCPUs than the board has CPUs"},
    RuleInfo{rule::kKeyUnknown, error, "the hardware key name is not a Linux key name"},
    RuleInfo{rule::kKeyDevicePath, error, "the hardware key device is not under /dev/input/"},
    RuleInfo{rule::kKeyTiming, error, "the gesture's time window is not longer than the debounce time"},
    RuleInfo{rule::kKeyUnusedTiming, warning, "a timing key is set that the chosen gesture ignores"},
    RuleInfo{rule::kModemChannelShared, error, "two personas use the same modem channel"},
    RuleInfo{rule::kModemDialWithoutCall, error, "dial = true without the 'call' AT family"},
    RuleInfo{rule::kModemAnswerWithoutCall, error, "answer = true without the 'call' AT family"},
    RuleInfo{rule::kModemRouteUnknownPersona, error, "a route or incoming_default names no persona"},
    RuleInfo{rule::kModemRouteCannotAnswer, error, "calls are routed to a persona that may not answer"},
    RuleInfo{rule::kModemRouteEmptyMatch, error, "a [[modem.route]] has neither sim_slot nor called_line"},
    RuleInfo{rule::kModemRouteDuplicate, error, "a [[modem.route]] matches the same calls as an earlier one"},
    RuleInfo{rule::kModemCalledLineInvalid, error, "called_line is not an E.164 number"},
    RuleInfo{rule::kModemNumbersInClear, warning, "phone numbers are logged in clear"},
    RuleInfo{rule::kModemSmsUnlimited, warning, "a persona may send SMS without an sms_per_hour limit"},
    RuleInfo{rule::kAuditKeyBesideLog, error, "the audit signing key lies inside the log directory"},
    RuleInfo{rule::kAuditFsyncCheckpoint, warning, "the audit log is fsynced only at checkpoints"},
    RuleInfo{rule::kAuditKeepTooSmall, error, "the audit log's size bound holds fewer than four files"},
};

}  // namespace

std::span<const RuleInfo> all_rules() noexcept { return kRules; }

const RuleInfo* find_rule(std::string_view id) noexcept {
  const auto it = std::find_if(kRules.begin(), kRules.end(),
                               [&](const RuleInfo& info) { return info.id == id; });
  return it == kRules.end() ? nullptr : &*it;
}

}  // namespace twofold::policy
