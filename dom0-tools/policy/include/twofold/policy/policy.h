#pragma once
// The typed persona policy. A Policy only ever comes out of the loader (loader.h); a policy
// with no error findings from load_and_check() is what twofold-manager acts on.
// Fields carry the position they were read from so that every rule can point at a line.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "twofold/policy/finding.h"

namespace twofold::policy {

template <typename T>
struct Located {
  T value{};
  Location where{};
};

enum class PersonaKind { personal, secure };
enum class RestartPolicy { never, on_crash, always };
enum class Gesture { press, double_press, long_press };
enum class NumberLogging { clear, hashed, omitted };
enum class FsyncPolicy { every_record, every_checkpoint };
// How a network's traffic must leave the device (docs/network.md).
enum class Tunnel { wireguard };

// AT command families a persona may send to the modem; docs/policy.md lists the commands
// of each family. The modem backend maps each command it parses to exactly one family.
enum class AtFamily { call, sms, network, data, sim, supplementary, phonebook, info };

std::string_view to_string(PersonaKind value) noexcept;
std::string_view to_string(RestartPolicy value) noexcept;
std::string_view to_string(Gesture value) noexcept;
std::string_view to_string(NumberLogging value) noexcept;
std::string_view to_string(FsyncPolicy value) noexcept;
std::string_view to_string(Tunnel value) noexcept;
std::string_view to_string(AtFamily value) noexcept;

struct Disk {
  Location where;  // the [[persona.disk]] header
  Located<std::string> path;
  Located<std::string> target;  // guest device name, xvda..xvdz
  Located<bool> readonly;
  Located<bool> encrypted;
  // Encrypted disks: wrong PINs in a row before the crypto-erase (docs/sealed-storage.md).
  Located<std::uint32_t> pin_retries;
};

struct Network {
  Location where;
  Located<std::string> name;  // the dom0 bridge the persona's vif joins
  // What the network may reach: "internet", "lan", "dom0", or an IPv4/IPv6 CIDR prefix.
  std::vector<Located<std::string>> reach;
  // The persona's link to dom0, an IPv4 prefix of /8 to /30: dom0's side of the bridge takes
  // its first host address, the persona the second. Unset: dom0 routes nothing to the network.
  std::optional<Located<std::string>> subnet;
  // Set: dom0 forwards only datagrams of this tunnel protocol from the network, to its reach.
  std::optional<Located<Tunnel>> tunnel;
};

// The organisation the secure persona belongs to: the only addresses its traffic may reach
// (its VPN gateway's public address among them), and none the personal persona may.
struct Organisation {
  Location where;
  std::vector<Located<std::string>> networks;  // CIDR prefixes
};

struct Devices {
  Location where;
  Located<bool> display;
  Located<bool> input;
  Located<bool> storage;
  Located<bool> camera;
  Located<bool> gps;
  Located<bool> wifi;
  Located<bool> bluetooth;
  Located<bool> usb;
};

struct PersonaModem {
  Location where;
  Located<std::uint8_t> channel;  // AT channel index on the modem multiplexer
  Located<std::set<AtFamily>> at_families;
  Located<bool> dial;
  Located<bool> answer;
  // At most this many SMS sends (+CMGS) per hour, in bursts of up to as many; unset:
  // the modem alone sets the rate.
  std::optional<Located<std::uint32_t>> sms_per_hour;
};

struct Restart {
  Location where;
  Located<RestartPolicy> policy{RestartPolicy::on_crash, {}};
  Located<std::uint32_t> max_attempts;
  Located<std::uint32_t> window_seconds;
};

struct Persona {
  Location where;  // the [[persona]] header
  Located<std::string> name;
  Located<PersonaKind> kind;
  Located<std::uint32_t> memory_mib;
  Located<std::uint32_t> vcpus;
  Located<std::string> kernel;
  std::optional<Located<std::string>> initrd;
  Located<std::string> cmdline;
  std::vector<Disk> disks;
  std::vector<Network> networks;
  Devices devices;
  std::optional<PersonaModem> modem;  // absent: the persona gets no modem channel at all
  Restart restart;
};

// The physical screen as the personas share it: the guests are given width x (height -
// indicator_height), dom0 draws the persona indicator in the strip above.
struct Display {
  Location where;
  Located<std::uint32_t> width;
  Located<std::uint32_t> height;
  Located<std::uint32_t> indicator_height;
};

struct Board {
  Location where;
  std::optional<Display> display;  // absent: guests choose their own framebuffer size
  Located<std::uint32_t> memory_mib;
  Located<std::uint32_t> cpus;
  Located<std::uint32_t> dom0_memory_mib;
};

struct HardwareKey {
  Location where;
  Located<std::string> device;  // evdev node, under /dev/input/
  Located<std::uint16_t> code;  // linux/input-event-codes.h
  std::string code_name;        // e.g. "KEY_POWER", for messages; empty if given as a number
  Located<Gesture> gesture;
  Located<std::uint32_t> debounce_ms;
  Located<std::uint32_t> long_press_ms;
  Located<std::uint32_t> double_press_window_ms;
  // Which timing keys were written explicitly (so unused ones can be pointed out).
  bool long_press_ms_set = false;
  bool double_press_window_ms_set = false;
};

// Incoming call/SMS routing: the first route whose match fields all equal the event wins;
// an event no route matches goes to `incoming_default`.
struct RouteTarget {
  bool foreground = false;  // true: whichever persona is in the foreground
  std::string persona;      // when !foreground
};

struct IncomingRoute {
  Location where;
  std::optional<Located<std::uint8_t>> sim_slot;
  std::optional<Located<std::string>> called_line;  // E.164, "+" and up to 15 digits
  Located<RouteTarget> to;
};

struct Modem {
  Location where;
  Located<NumberLogging> number_logging;
  Located<RouteTarget> incoming_default;
  std::vector<IncomingRoute> routes;
};

struct Audit {
  Location where;
  Located<std::string> log;
  Located<std::string> signing_key;
  Located<std::uint32_t> checkpoint_records;
  Located<std::uint32_t> checkpoint_seconds;
  Located<FsyncPolicy> fsync;
  Located<std::uint32_t> rotate_mib;
  Located<std::uint32_t> keep_mib;  // the log files' total size bound; oldest files go first
};

struct Policy {
  std::string source;  // file name used in findings
  Located<std::string> default_foreground;
  Board board;
  HardwareKey hardware_key;
  Modem modem;
  Audit audit;
  std::optional<Organisation> organisation;
  std::vector<Persona> personas;
  // [[persona]] tables whose name or kind could not be read: they are left out of
  // `personas`, and rules that count or look up personas stay quiet rather than cascade.
  std::size_t unidentified_personas = 0;

  const Persona* find_persona(std::string_view name) const noexcept;
};

}  // namespace twofold::policy
