#include "twofold/policy/checker.h"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>
#include <map>
#include <set>
#include <system_error>
#include <utility>

#include "diagnostics.h"
#include "near_miss.h"
#include "paths.h"
#include "text.h"
#include "twofold/policy/address.h"
#include "twofold/policy/limits.h"
#include "twofold/policy/rules.h"

namespace twofold::policy {
namespace {

using detail::Diagnostics;

bool is_identifier(std::string_view name, std::size_t max_length) {
  if (name.empty() || name.size() > max_length) return false;
  if (name.front() < 'a' || name.front() > 'z') return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
  });
}

bool is_cidr(std::string_view text) {
  const auto slash = text.find('/');
  if (slash == std::string_view::npos) return false;
  const std::string address(text.substr(0, slash));
  const std::string_view prefix = text.substr(slash + 1);
  unsigned bits = 0;
  const auto [end, ec] = std::from_chars(prefix.data(), prefix.data() + prefix.size(), bits);
  if (ec != std::errc{} || end != prefix.data() + prefix.size() || prefix.empty()) return false;
  unsigned char buffer[16];
  if (inet_pton(AF_INET, address.c_str(), buffer) == 1) return bits <= 32;
  if (inet_pton(AF_INET6, address.c_str(), buffer) == 1) return bits <= 128;
  return false;
}

bool is_reach(std::string_view text) {
  return text == "internet" || text == "lan" || text == "dom0" || is_cidr(text);
}

bool is_e164(std::string_view text) {
  if (text.size() < 2 || text.front() != '+') return false;
  const std::string_view digits = text.substr(1);
  if (digits.size() > limits::kMaxCalledLineDigits || digits.front() == '0') return false;
  return std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// One job per function below: each checks one group of rules and reports into `out`.
class Checker {
 public:
  Checker(const Policy& policy, const CheckOptions& options)
      : policy_(policy), options_(options), out_(policy.source) {}

  // The persona links' prefix lengths: /30 leaves dom0 and the persona one address each.
  static constexpr unsigned kMinSubnetLength = 8;
  static constexpr unsigned kMaxSubnetLength = 30;

  std::vector<Finding> run() && {
    read_organisation();
    check_names();
    check_counts();
    for (const Persona& persona : policy_.personas) {
      check_storage(persona);
      check_networks(persona);
      check_persona_modem(persona);
      if (persona.kind.value == PersonaKind::secure) check_secure(persona);
    }
    check_address_plan();
    check_foreground();
    check_resources();
    check_hardware_key();
    check_modem();
    check_audit();
    return std::move(out_).take();
  }

 private:
  // Lookups by name stay quiet when some persona could not be identified: the loader has
  // already reported why, and "unknown persona" would only be an echo of that.
  bool can_resolve_names() const noexcept { return policy_.unidentified_personas == 0; }

  std::vector<std::string_view> persona_names() const {
    std::vector<std::string_view> names;
    for (const Persona& persona : policy_.personas) names.push_back(persona.name.value);
    return names;
  }

  std::string unknown_persona_hint(std::string_view name) const {
    const auto names = persona_names();
    if (const auto near = detail::closest_match(name, names)) {
      return "did you mean " + detail::excerpt(*near) + "?";
    }
    std::string hint = "name one of the [[persona]] tables:";
    for (const auto known : names) hint += " " + detail::excerpt(known);
    return hint;
  }

  void check_names() {
    std::set<std::string_view> seen;
    for (const Persona& persona : policy_.personas) {
      const auto& name = persona.name;
      if (!is_identifier(name.value, limits::kMaxNameLength)) {
        out_.error(rule::kNameInvalid, name.where,
                   "persona name " + detail::excerpt(name.value) +
                       " cannot be used as a libvirt domain name and xenstore path component",
                   "use 1-32 characters: a lowercase letter, then lowercase letters, digits or "
                   "'-'");
      } else if (name.value == "foreground") {
        out_.error(rule::kNameReserved, name.where,
                   "persona name 'foreground' is reserved for modem routing",
                   "choose another name");
      }
      if (!seen.insert(name.value).second) {
        out_.error(rule::kNameDuplicate, name.where,
                   "persona name " + detail::excerpt(name.value) + " is used twice",
                   "give every persona its own name");
      }
    }
  }

  void check_count(PersonaKind kind, std::string_view rule_id) {
    const Persona* extra = nullptr;
    std::size_t count = 0;
    for (const Persona& persona : policy_.personas) {
      if (persona.kind.value != kind) continue;
      if (++count == 2) extra = &persona;
    }
    const std::string kind_name(to_string(kind));
    if (count > 1) {
      out_.error(rule_id, extra->kind.where,
                 "a second persona of kind '" + kind_name + "': exactly one is required",
                 "set kind = \"" + std::string(kind == PersonaKind::secure ? "personal" : "secure") +
                     "\" or remove this persona");
    } else if (count == 0 && can_resolve_names()) {
      out_.error(rule_id, Location{1, 1},
                 "no persona of kind '" + kind_name + "': exactly one is required",
                 "add a [[persona]] with kind = \"" + kind_name + "\"");
    }
  }

  void check_counts() {
    check_count(PersonaKind::secure, rule::kSecureCount);
    check_count(PersonaKind::personal, rule::kPersonalCount);
  }

  void check_storage(const Persona& persona) {
    if (!persona.disks.empty() && !persona.devices.storage.value) {
      out_.error(rule::kDisksWithoutStorage, persona.disks.front().where,
                 "persona " + detail::excerpt(persona.name.value) + " lists disks but may not have storage",
                 "set storage = true in [persona.devices], or remove the disks");
    }
    std::set<std::string> targets;
    std::set<std::string> paths;
    for (const Disk& disk : persona.disks) {
      if (!disk.target.value.empty() && !targets.insert(disk.target.value).second) {
        out_.error(rule::kDiskTargetDuplicate, disk.target.where,
                   "disk target '" + disk.target.value + "' is used twice in persona " +
                       detail::excerpt(persona.name.value),
                   "give every disk its own target (xvda, xvdb, ...)");
      }
      if (!disk.path.value.empty() &&
          !paths.insert(detail::normalise_path(disk.path.value)).second) {
        out_.error(rule::kDiskPathDuplicate, disk.path.where,
                   "disk " + detail::excerpt(disk.path.value) + " is attached twice to persona " +
                       detail::excerpt(persona.name.value),
                   "attach each image once");
      }
    }
  }

  void check_networks(const Persona& persona) {
    std::set<std::string_view> names;
    for (const Network& network : persona.networks) {
      const auto& name = network.name;
      if (!is_identifier(name.value, limits::kMaxNetworkNameLength)) {
        out_.error(rule::kNetworkNameInvalid, name.where,
                   "network name " + detail::excerpt(name.value) + " cannot be a bridge name",
                   "use 1-15 characters: a lowercase letter, then lowercase letters, digits or "
                   "'-'");
      }
      if (!names.insert(name.value).second) {
        out_.error(rule::kNetworkDuplicate, name.where,
                   "persona " + detail::excerpt(persona.name.value) + " joins network " + detail::excerpt(name.value) +
                       " twice",
                   "list each network once");
      }
      for (const auto& entry : network.reach) {
        if (!is_reach(entry.value)) {
          out_.error(rule::kReachInvalid, entry.where,
                     detail::excerpt(entry.value) + " is not something a network can reach",
                     "use \"internet\", \"lan\", \"dom0\" or a CIDR prefix such as "
                     "\"10.8.0.0/16\"");
        }
      }
      if (network.subnet) {
        const auto subnet = Ipv4Prefix::parse(network.subnet->value);
        if (!subnet || subnet->length < kMinSubnetLength || subnet->length > kMaxSubnetLength) {
          out_.error(rule::kSubnetInvalid, network.subnet->where,
                     "subnet " + detail::excerpt(network.subnet->value) + " cannot be a persona's link",
                     "use an IPv4 prefix of /8 to /30 with the host bits zero, such as \"10.20.1.0/30\"");
        }
      }
      if (persona.kind.value == PersonaKind::secure) check_secure_network(persona, network);
    }
  }

  // The secure persona's traffic leaves the device only inside its tunnel, and only towards
  // its organisation: a reach of "internet" or of someone else's prefix would let a
  // compromised persona (or a misconfigured tunnel) talk past the organisation.
  void check_secure_network(const Persona& persona, const Network& network) {
    if (!network.tunnel) {
      out_.error(rule::kSecureNetworkUnencrypted, network.name.where,
                 "network " + detail::excerpt(network.name.value) + " of the secure persona " +
                     detail::excerpt(persona.name.value) + " has no tunnel",
                 "set tunnel = \"wireguard\": dom0 then passes only the tunnel's datagrams");
    }
    for (const auto& entry : network.reach) {
      if (!is_reach(entry.value)) continue;  // reported above
      const auto prefix = Ipv4Prefix::parse(entry.value, /*strict=*/false);
      const bool inside = prefix && std::any_of(organisation_.begin(), organisation_.end(),
                                                [&](const Ipv4Prefix& o) { return o.contains(*prefix); });
      if (!inside) {
        out_.error(rule::kSecureReachOutsideOrganisation, entry.where,
                   "the secure persona's network " + detail::excerpt(network.name.value) + " reaches " +
                       detail::excerpt(entry.value) + ", outside the organisation's networks",
                   organisation_.empty()
                       ? "list the organisation's networks in [organisation] networks, and reach only those"
                       : "reach only prefixes inside the [organisation] networks (its VPN gateway's address)");
      }
    }
  }

  // Every network's subnet is its own: two links in one prefix would make dom0's routes and
  // filters ambiguous, and a link inside the organisation's addresses would shadow them.
  void check_address_plan() {
    struct Plan {
      Ipv4Prefix prefix;
      const Located<std::string>* where;
      std::string owner;
    };
    std::vector<Plan> seen;
    for (const Persona& persona : policy_.personas) {
      for (const Network& network : persona.networks) {
        if (!network.subnet) continue;
        const auto subnet = Ipv4Prefix::parse(network.subnet->value);
        if (!subnet) continue;  // reported by check_networks
        for (const Plan& other : seen) {
          if (subnet->overlaps(other.prefix)) {
            out_.error(rule::kSubnetOverlap, network.subnet->where,
                       "subnet " + detail::excerpt(network.subnet->value) + " of persona " +
                           detail::excerpt(persona.name.value) + " overlaps " + detail::excerpt(other.where->value) +
                           " of " + other.owner + " (line " + std::to_string(other.where->where.line) + ")",
                       "give every network its own prefix");
          }
        }
        for (const Ipv4Prefix& org : organisation_) {
          if (subnet->overlaps(org)) {
            out_.error(rule::kSubnetOverlap, network.subnet->where,
                       "subnet " + detail::excerpt(network.subnet->value) + " of persona " +
                           detail::excerpt(persona.name.value) + " overlaps the organisation's " + org.str(),
                       "pick a persona link prefix outside the [organisation] networks");
          }
        }
        seen.push_back({*subnet, &*network.subnet, "persona " + detail::excerpt(persona.name.value)});
      }
    }
  }

  void check_persona_modem(const Persona& persona) {
    if (!persona.modem) return;
    const PersonaModem& modem = *persona.modem;
    const bool may_call = modem.at_families.value.contains(AtFamily::call);
    if (modem.dial.value && !may_call) {
      out_.error(rule::kModemDialWithoutCall, modem.dial.where,
                 "persona " + detail::excerpt(persona.name.value) +
                     " may dial but the 'call' AT family is not allowed",
                 "add \"call\" to at_families, or set dial = false");
    }
    if (modem.answer.value && !may_call) {
      out_.error(rule::kModemAnswerWithoutCall, modem.answer.where,
                 "persona " + detail::excerpt(persona.name.value) +
                     " may answer but the 'call' AT family is not allowed",
                 "add \"call\" to at_families, or set answer = false");
    }
    // A compromised persona with the sms family could otherwise send as fast as the modem
    // takes them, each a cost to the one SIM both personas share.
    if (modem.at_families.value.contains(AtFamily::sms) && !modem.sms_per_hour) {
      out_.warning(rule::kModemSmsUnlimited, modem.at_families.where,
                   "persona " + detail::excerpt(persona.name.value) +
                       " may send SMS without a limit",
                   "set sms_per_hour in its [persona.modem], e.g. sms_per_hour = 60");
    }
  }

  void forbid(const Persona& persona, const Located<bool>& flag, std::string_view rule_id,
              std::string_view device) {
    if (!flag.value) return;
    out_.error(rule_id, flag.where,
               "the secure persona " + detail::excerpt(persona.name.value) + " may not have " +
                   std::string(device),
               "remove it or set it to false");
  }

  bool same_file(const std::string& a, const std::string& b) const {
    if (detail::normalise_path(a) == detail::normalise_path(b)) return true;
    if (!options_.resolve_paths) return false;
    std::error_code ec;
    // Only when both exist: equivalent() sees through symlinks, hard links and bind mounts.
    return std::filesystem::equivalent(a, b, ec) && !ec;
  }

  void check_secure(const Persona& secure) {
    forbid(secure, secure.devices.camera, rule::kSecureNoCamera, "a camera");
    forbid(secure, secure.devices.gps, rule::kSecureNoGps, "GPS");
    forbid(secure, secure.devices.wifi, rule::kSecureNoWifi, "Wi-Fi");
    forbid(secure, secure.devices.bluetooth, rule::kSecureNoBluetooth, "Bluetooth");
    forbid(secure, secure.devices.usb, rule::kSecureNoUsb, "USB");
    for (const Disk& disk : secure.disks) {
      if (!disk.readonly.value && !disk.encrypted.value) {
        out_.error(rule::kSecureEncryptedStorage, disk.where,
                   "writable disk " + detail::excerpt(disk.path.value) + " of the secure persona " +
                       detail::excerpt(secure.name.value) + " is not encrypted",
                   "set encrypted = true, or readonly = true for an image that is never written");
      }
    }
    for (const Persona& other : policy_.personas) {
      if (&other == &secure || other.kind.value == PersonaKind::secure) continue;
      for (const Disk& mine : secure.disks) {
        for (const Disk& theirs : other.disks) {
          if (mine.path.value.empty() || theirs.path.value.empty()) continue;
          if (same_file(mine.path.value, theirs.path.value)) {
            out_.error(rule::kSecureNoSharedDisk, mine.path.where,
                       "the secure persona shares disk " + detail::excerpt(mine.path.value) +
                           " with persona " + detail::excerpt(other.name.value),
                       "give the secure persona its own image file");
          }
        }
      }
      for (const Network& mine : secure.networks) {
        for (const Network& theirs : other.networks) {
          if (!mine.name.value.empty() && mine.name.value == theirs.name.value) {
            out_.error(rule::kSecureNoSharedNetwork, mine.name.where,
                       "the secure persona shares network " + detail::excerpt(mine.name.value) +
                           " with persona " + detail::excerpt(other.name.value),
                       "give the secure persona its own network");
          }
        }
      }
    }
  }

  void check_foreground() {
    const auto& name = policy_.default_foreground;
    if (name.where.line == 0) return;  // missing: the loader reported it
    const Persona* persona = policy_.find_persona(name.value);
    if (persona == nullptr) {
      if (can_resolve_names()) {
        out_.error(rule::kForegroundUnknown, name.where,
                   "default_foreground names no persona: " + detail::excerpt(name.value),
                   unknown_persona_hint(name.value));
      }
      return;
    }
    if (!persona->devices.display.value) {
      out_.error(rule::kForegroundNoDisplay, name.where,
                 "default foreground persona " + detail::excerpt(persona->name.value) + " has no display",
                 "set display = true in its [persona.devices], or choose another persona");
    }
  }

  void check_resources() {
    const Board& board = policy_.board;
    if (board.memory_mib.value != 0 && board.dom0_memory_mib.value != 0) {
      std::uint64_t total = board.dom0_memory_mib.value;
      for (const Persona& persona : policy_.personas) total += persona.memory_mib.value;
      if (total > board.memory_mib.value) {
        out_.error(rule::kMemoryOvercommit, board.memory_mib.where,
                   "dom0 and the personas need " + std::to_string(total) + " MiB but the board has " +
                       std::to_string(board.memory_mib.value) + " MiB",
                   "lower memory_mib of a persona or dom0_memory_mib");
      }
    }
    if (board.cpus.value == 0) return;
    std::uint64_t vcpus = 0;
    bool exceeded = false;
    for (const Persona& persona : policy_.personas) {
      vcpus += persona.vcpus.value;
      if (persona.vcpus.value > board.cpus.value) {
        exceeded = true;
        out_.error(rule::kVcpusExceedBoard, persona.vcpus.where,
                   "persona " + detail::excerpt(persona.name.value) + " has " +
                       std::to_string(persona.vcpus.value) + " vCPUs but the board has " +
                       std::to_string(board.cpus.value) + " CPUs",
                   "use at most " + std::to_string(board.cpus.value) + " vCPUs");
      }
    }
    // After a vcpus-exceed-board error the overcommit warning would only repeat it.
    if (vcpus > board.cpus.value && !exceeded) {
      out_.warning(rule::kVcpuOvercommit, board.cpus.where,
                   "the personas have " + std::to_string(vcpus) + " vCPUs but the board has " +
                       std::to_string(board.cpus.value) +
                       " CPU(s): a busy persona can slow the other one down",
                   "lower vcpus if the personas must not compete for CPU time");
    }
  }

  void check_hardware_key() {
    const HardwareKey& key = policy_.hardware_key;
    if (!key.device.value.empty() && !detail::is_within(key.device.value, "/dev/input")) {
      out_.error(rule::kKeyDevicePath, key.device.where,
                 "hardware key device " + detail::excerpt(key.device.value) + " is not an input device",
                 "use an evdev node under /dev/input/, e.g. /dev/input/by-path/...-event");
    }
    if (key.gesture.where.line == 0) return;  // gesture invalid or missing: reported already
    const Gesture gesture = key.gesture.value;
    if (gesture == Gesture::long_press && key.long_press_ms.value <= key.debounce_ms.value) {
      out_.error(rule::kKeyTiming, key.long_press_ms.where,
                 "long_press_ms must be longer than debounce_ms",
                 "raise long_press_ms or lower debounce_ms");
    }
    if (gesture == Gesture::double_press &&
        key.double_press_window_ms.value <= key.debounce_ms.value) {
      out_.error(rule::kKeyTiming, key.double_press_window_ms.where,
                 "double_press_window_ms must be longer than debounce_ms",
                 "raise double_press_window_ms or lower debounce_ms");
    }
    if (key.long_press_ms_set && gesture != Gesture::long_press) {
      out_.warning(rule::kKeyUnusedTiming, key.long_press_ms.where,
                   "long_press_ms has no effect with gesture '" +
                       std::string(to_string(gesture)) + "'",
                   "remove it, or set gesture = \"long_press\"");
    }
    if (key.double_press_window_ms_set && gesture != Gesture::double_press) {
      out_.warning(rule::kKeyUnusedTiming, key.double_press_window_ms.where,
                   "double_press_window_ms has no effect with gesture '" +
                       std::string(to_string(gesture)) + "'",
                   "remove it, or set gesture = \"double_press\"");
    }
  }

  void check_route_target(const Located<RouteTarget>& target, std::string_view what) {
    if (target.where.line == 0 || target.value.foreground) return;
    const Persona* persona = policy_.find_persona(target.value.persona);
    if (persona == nullptr) {
      if (can_resolve_names()) {
        out_.error(rule::kModemRouteUnknownPersona, target.where,
                   std::string(what) + " names no persona: " + detail::excerpt(target.value.persona),
                   unknown_persona_hint(target.value.persona) + " (or \"foreground\")");
      }
      return;
    }
    if (!persona->modem || !persona->modem->answer.value) {
      out_.error(rule::kModemRouteCannotAnswer, target.where,
                 std::string(what) + " sends incoming calls to persona " +
                     detail::excerpt(persona->name.value) + ", which may not answer",
                 "set answer = true in its [persona.modem], or route elsewhere");
    }
  }

  void check_modem() {
    std::map<std::uint8_t, const Persona*> channels;
    for (const Persona& persona : policy_.personas) {
      if (!persona.modem || persona.modem->channel.where.line == 0) continue;
      const auto [it, inserted] = channels.emplace(persona.modem->channel.value, &persona);
      if (!inserted) {
        out_.error(rule::kModemChannelShared, persona.modem->channel.where,
                   "modem channel " + std::to_string(persona.modem->channel.value) +
                       " of persona " + detail::excerpt(persona.name.value) + " is also used by persona " +
                       detail::excerpt(it->second->name.value),
                   "give every persona its own channel");
      }
    }
    const Modem& modem = policy_.modem;
    if (modem.number_logging.where.line != 0 && modem.number_logging.value == NumberLogging::clear) {
      out_.warning(rule::kModemNumbersInClear, modem.number_logging.where,
                   "phone numbers are written to the audit log in clear",
                   "use \"hashed\" or \"omitted\" unless an investigator needs the numbers");
    }
    check_route_target(modem.incoming_default, "incoming_default");
    std::set<std::pair<int, std::string>> matches;
    for (const IncomingRoute& route : modem.routes) {
      if (route.called_line && !is_e164(route.called_line->value)) {
        out_.error(rule::kModemCalledLineInvalid, route.called_line->where,
                   "called_line " + detail::excerpt(route.called_line->value) + " is not an E.164 number",
                   "write '+', the country code and the number, digits only, e.g. "
                   "\"+4930123456\"");
      }
      if (!route.sim_slot && !route.called_line) {
        out_.error(rule::kModemRouteEmptyMatch, route.where,
                   "this [[modem.route]] matches every call",
                   "add sim_slot and/or called_line, or use incoming_default instead");
      } else {
        const int slot = route.sim_slot ? route.sim_slot->value : 0;
        const std::string line = route.called_line ? route.called_line->value : std::string();
        if (!matches.emplace(slot, line).second) {
          out_.error(rule::kModemRouteDuplicate, route.where,
                     "this [[modem.route]] matches the same calls as an earlier one, so it never "
                     "applies",
                     "remove it or change sim_slot/called_line");
        }
      }
      check_route_target(route.to, "[[modem.route]] 'to'");
    }
  }

  void check_audit() {
    const Audit& audit = policy_.audit;
    if (!audit.log.value.empty() && !audit.signing_key.value.empty()) {
      const std::string log_directory =
          std::filesystem::path(detail::normalise_path(audit.log.value)).parent_path().string();
      if (detail::is_within(audit.signing_key.value, log_directory)) {
        out_.error(rule::kAuditKeyBesideLog, audit.signing_key.where,
                   "the audit signing key is inside the log directory " + detail::excerpt(log_directory),
                   "keep the key where log rotation and log shipping never copy it, e.g. "
                   "/etc/twofold/");
      }
    }
    if (audit.fsync.where.line != 0 && audit.fsync.value == FsyncPolicy::every_checkpoint) {
      out_.warning(rule::kAuditFsyncCheckpoint, audit.fsync.where,
                   "records after the last checkpoint can be lost on power failure",
                   "use fsync = \"record\" unless the storage cannot sustain it");
    }
    // Retention deletes whole files: with fewer than four, a single rotation could take
    // most of the history, and the retention record that explains a deletion would soon
    // be deleted with the next one.
    if (audit.rotate_mib.where.line != 0 && std::uint64_t{audit.keep_mib.value} < 4ULL * audit.rotate_mib.value) {
      out_.error(rule::kAuditKeepTooSmall, audit.keep_mib.where,
                 "keep_mib = " + std::to_string(audit.keep_mib.value) + " holds fewer than four files of rotate_mib = " +
                     std::to_string(audit.rotate_mib.value),
                 "raise keep_mib to at least " + std::to_string(4ULL * audit.rotate_mib.value) + " or lower rotate_mib");
    }
  }

  // [organisation] networks, read once: every rule about the organisation compares with them.
  void read_organisation() {
    if (!policy_.organisation) return;
    for (const auto& entry : policy_.organisation->networks) {
      if (const auto prefix = Ipv4Prefix::parse(entry.value)) {
        organisation_.push_back(*prefix);
      } else {
        out_.error(rule::kOrganisationNetworkInvalid, entry.where,
                   detail::excerpt(entry.value) + " is not an IPv4 prefix",
                   "use a prefix with the host bits zero, such as \"10.8.0.0/16\" or \"203.0.113.10/32\"");
      }
    }
  }

  const Policy& policy_;
  const CheckOptions& options_;
  Diagnostics out_;
  std::vector<Ipv4Prefix> organisation_;
};

LoadResult checked(LoadResult loaded, const CheckOptions& options) {
  if (loaded.policy) {
    auto more = check_policy(*loaded.policy, options);
    loaded.findings.insert(loaded.findings.end(), std::make_move_iterator(more.begin()),
                           std::make_move_iterator(more.end()));
  }
  sort_by_position(loaded.findings);
  return loaded;
}

}  // namespace

std::vector<Finding> check_policy(const Policy& policy, const CheckOptions& options) {
  return Checker(policy, options).run();
}

LoadResult load_and_check_policy_file(const std::filesystem::path& file,
                                      const CheckOptions& options) {
  return checked(load_policy_file(file), options);
}

LoadResult load_and_check_policy(std::string_view text, std::string_view source_name,
                                 const CheckOptions& options) {
  return checked(load_policy(text, source_name), options);
}

}  // namespace twofold::policy
