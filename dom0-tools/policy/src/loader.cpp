#include "twofold/policy/loader.h"

#include <array>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <sstream>

#include "diagnostics.h"
#include "key_codes.h"
#include "parser_guard.h"
#include "paths.h"
#include "table_reader.h"
#include "text.h"
#include "twofold/policy/limits.h"
#include "twofold/policy/rules.h"

namespace twofold::policy {
namespace {

using detail::Choice;
using detail::Diagnostics;
using detail::Presence;
using detail::TableReader;

constexpr std::array<Choice<PersonaKind>, 2> kKinds{{
    {"personal", PersonaKind::personal},
    {"secure", PersonaKind::secure},
}};
constexpr std::array<Choice<RestartPolicy>, 3> kRestartPolicies{{
    {"never", RestartPolicy::never},
    {"on-crash", RestartPolicy::on_crash},
    {"always", RestartPolicy::always},
}};
constexpr std::array<Choice<Gesture>, 3> kGestures{{
    {"press", Gesture::press},
    {"double_press", Gesture::double_press},
    {"long_press", Gesture::long_press},
}};
constexpr std::array<Choice<NumberLogging>, 3> kNumberLogging{{
    {"clear", NumberLogging::clear},
    {"hashed", NumberLogging::hashed},
    {"omitted", NumberLogging::omitted},
}};
constexpr std::array<Choice<FsyncPolicy>, 2> kFsyncPolicies{{
    {"record", FsyncPolicy::every_record},
    {"checkpoint", FsyncPolicy::every_checkpoint},
}};
constexpr std::array<Choice<Tunnel>, 1> kTunnels{{
    {"wireguard", Tunnel::wireguard},
}};
constexpr std::array<Choice<AtFamily>, 8> kAtFamilies{{
    {"call", AtFamily::call},
    {"sms", AtFamily::sms},
    {"network", AtFamily::network},
    {"data", AtFamily::data},
    {"sim", AtFamily::sim},
    {"supplementary", AtFamily::supplementary},
    {"phonebook", AtFamily::phonebook},
    {"info", AtFamily::info},
}};

// The reserved route target; persona.name-reserved keeps persona names from colliding with it.
constexpr std::string_view kForeground = "foreground";

template <typename T, typename U>
void assign(Located<T>& field, std::optional<Located<U>> value) {
  if (value) field = Located<T>{static_cast<T>(value->value), value->where};
}

// A string key holding a host path; `field` is left unchanged if the path is unacceptable.
void read_path(TableReader& table, std::string_view key, Presence presence,
               Located<std::string>& field) {
  auto value = table.string(key, presence);
  if (!value) return;
  if (auto problem = detail::path_problem(value->value)) {
    table.diagnostics().error(rule::kInvalidPath, value->where,
                              "'" + std::string(key) + "' in " + table.context() + ": " + *problem,
                              "write an absolute path such as /var/lib/twofold/...");
    return;
  }
  field = std::move(*value);
}

std::optional<Located<std::string>> read_optional_path(TableReader& table, std::string_view key) {
  if (!table.has(key)) {
    table.node(key);  // known, merely absent
    return std::nullopt;
  }
  Located<std::string> field;
  read_path(table, key, Presence::optional, field);
  if (field.value.empty()) return std::nullopt;
  return field;
}

Located<bool> read_flag(TableReader& table, std::string_view key) {
  Located<bool> flag{false, table.location_of_key(key)};
  assign(flag, table.boolean(key, Presence::optional));
  return flag;
}

std::optional<Located<RouteTarget>> read_route_target(TableReader& table, std::string_view key) {
  auto value = table.string(key, Presence::required);
  if (!value) return std::nullopt;
  RouteTarget target;
  if (value->value == kForeground) {
    target.foreground = true;
  } else {
    target.persona = value->value;  // existence is checked by the checker
  }
  return Located<RouteTarget>{std::move(target), value->where};
}

Board read_board(TableReader table) {
  Board board;
  board.where = table.where();
  assign(board.memory_mib, table.integer_as<std::uint32_t>("memory_mib", Presence::required,
                                                          limits::kMinBoardMemoryMib,
                                                          limits::kMaxBoardMemoryMib));
  assign(board.cpus, table.integer_as<std::uint32_t>("cpus", Presence::required,
                                                    limits::kMinBoardCpus, limits::kMaxBoardCpus));
  assign(board.dom0_memory_mib,
         table.integer_as<std::uint32_t>("dom0_memory_mib", Presence::required,
                                         limits::kMinDom0MemoryMib, limits::kMaxDom0MemoryMib));
  if (auto display = table.table("display", Presence::optional, "[board.display]")) {
    Display d;
    d.where = display->where();
    assign(d.width, display->integer_as<std::uint32_t>("width", Presence::required,
                                                       limits::kMinScreenWidth, limits::kMaxScreenWidth));
    assign(d.height, display->integer_as<std::uint32_t>("height", Presence::required,
                                                        limits::kMinScreenHeight, limits::kMaxScreenHeight));
    assign(d.indicator_height,
           display->integer_as<std::uint32_t>("indicator_height", Presence::required,
                                              limits::kMinIndicatorHeight, limits::kMaxIndicatorHeight));
    display->finish();
    board.display = std::move(d);
  }
  table.finish();
  return board;
}

void read_key_code(TableReader& table, HardwareKey& key) {
  const toml::node* node = table.node("key");
  if (node == nullptr) {
    table.diagnostics().error(rule::kMissingKey, table.where(),
                              "missing required key 'key' in " + table.context(),
                              "add `key = \"KEY_POWER\"` (a key name or code)");
    return;
  }
  const Location here = detail::location_of(node->source());
  if (const auto* name = node->as_string()) {
    if (const auto code = detail::key_code_from_name(name->get())) {
      key.code = {*code, here};
      key.code_name = name->get();
      return;
    }
    std::string hint = "use a name from linux/input-event-codes.h such as KEY_POWER, or a code";
    if (const auto near = detail::closest_key_name(name->get())) {
      hint = "did you mean '" + *near + "'?";
    }
    table.diagnostics().error(rule::kKeyUnknown, here,
                              detail::excerpt(name->get()) + " is not a known key name",
                              std::move(hint));
    return;
  }
  if (const auto* number = node->as_integer()) {
    const std::int64_t code = number->get();
    if (code < limits::kMinKeyCode || code > limits::kMaxKeyCode) {
      table.diagnostics().error(rule::kOutOfRange, here,
                                "key code " + std::to_string(code) + " is out of range",
                                "allowed range is " + std::to_string(limits::kMinKeyCode) + ".." +
                                    std::to_string(limits::kMaxKeyCode));
      return;
    }
    key.code = {static_cast<std::uint16_t>(code), here};
    key.code_name = detail::key_name(key.code.value);
    return;
  }
  table.report_wrong_type("key", *node, "a key name string or an integer key code",
                          "write e.g. key = \"KEY_POWER\" or key = 116");
}

HardwareKey read_hardware_key(TableReader table) {
  HardwareKey key;
  key.where = table.where();
  read_path(table, "device", Presence::required, key.device);
  read_key_code(table, key);
  assign(key.gesture, table.choice<Gesture>("gesture", Presence::required, kGestures));
  key.debounce_ms = {static_cast<std::uint32_t>(limits::kDefaultDebounceMs), table.where()};
  key.long_press_ms = {static_cast<std::uint32_t>(limits::kDefaultLongPressMs), table.where()};
  key.double_press_window_ms = {static_cast<std::uint32_t>(limits::kDefaultDoublePressWindowMs),
                                table.where()};
  assign(key.debounce_ms,
         table.integer_as<std::uint32_t>("debounce_ms", Presence::optional, limits::kMinDebounceMs,
                                         limits::kMaxDebounceMs));
  key.long_press_ms_set = table.has("long_press_ms");
  assign(key.long_press_ms,
         table.integer_as<std::uint32_t>("long_press_ms", Presence::optional,
                                         limits::kMinLongPressMs, limits::kMaxLongPressMs));
  key.double_press_window_ms_set = table.has("double_press_window_ms");
  assign(key.double_press_window_ms,
         table.integer_as<std::uint32_t>("double_press_window_ms", Presence::optional,
                                         limits::kMinDoublePressWindowMs,
                                         limits::kMaxDoublePressWindowMs));
  table.finish();
  return key;
}

IncomingRoute read_route(TableReader table) {
  IncomingRoute route;
  route.where = table.where();
  if (auto slot = table.integer_as<std::uint8_t>("sim_slot", Presence::optional,
                                                 limits::kMinSimSlot, limits::kMaxSimSlot)) {
    route.sim_slot = *slot;
  }
  if (auto line = table.string("called_line", Presence::optional)) route.called_line = *line;
  if (auto target = read_route_target(table, "to")) route.to = std::move(*target);
  table.finish();
  return route;
}

Modem read_modem(TableReader table) {
  Modem modem;
  modem.where = table.where();
  assign(modem.number_logging,
         table.choice<NumberLogging>("number_logging", Presence::required, kNumberLogging));
  if (auto target = read_route_target(table, "incoming_default")) {
    modem.incoming_default = std::move(*target);
  }
  for (auto& route : table.tables("route", Presence::optional, limits::kMaxRoutes,
                                  "[[modem.route]]")) {
    modem.routes.push_back(read_route(std::move(route)));
  }
  table.finish();
  return modem;
}

Audit read_audit(TableReader table) {
  Audit audit;
  audit.where = table.where();
  read_path(table, "log", Presence::required, audit.log);
  read_path(table, "signing_key", Presence::required, audit.signing_key);
  assign(audit.checkpoint_records,
         table.integer_as<std::uint32_t>("checkpoint_records", Presence::required,
                                         limits::kMinCheckpointRecords,
                                         limits::kMaxCheckpointRecords));
  assign(audit.checkpoint_seconds,
         table.integer_as<std::uint32_t>("checkpoint_seconds", Presence::required,
                                         limits::kMinCheckpointSeconds,
                                         limits::kMaxCheckpointSeconds));
  assign(audit.fsync, table.choice<FsyncPolicy>("fsync", Presence::required, kFsyncPolicies));
  assign(audit.rotate_mib, table.integer_as<std::uint32_t>("rotate_mib", Presence::required,
                                                          limits::kMinRotateMib,
                                                          limits::kMaxRotateMib));
  audit.keep_mib = {static_cast<std::uint32_t>(limits::kDefaultKeepMib), table.where()};
  assign(audit.keep_mib, table.integer_as<std::uint32_t>("keep_mib", Presence::optional, limits::kMinKeepMib,
                                                        limits::kMaxKeepMib));
  table.finish();
  return audit;
}

Organisation read_organisation(TableReader table) {
  Organisation organisation;
  organisation.where = table.where();
  if (auto networks = table.strings("networks", Presence::required, limits::kMaxReachEntries)) {
    organisation.networks = std::move(*networks);
  }
  table.finish();
  return organisation;
}

bool is_disk_target(std::string_view target) {
  return target.size() == 4 && target.starts_with("xvd") && target[3] >= 'a' && target[3] <= 'z';
}

Disk read_disk(TableReader table) {
  Disk disk;
  disk.where = table.where();
  read_path(table, "path", Presence::required, disk.path);
  if (auto target = table.string("target", Presence::required)) {
    if (is_disk_target(target->value)) {
      disk.target = std::move(*target);
    } else {
      table.diagnostics().error(rule::kInvalidValue, target->where,
                                "disk target " + detail::excerpt(target->value) +
                                    " is not a Xen PV disk name",
                                "use xvda .. xvdz");
    }
  }
  disk.readonly = read_flag(table, "readonly");
  disk.encrypted = read_flag(table, "encrypted");
  disk.pin_retries = {static_cast<std::uint32_t>(limits::kDefaultPinRetries), table.where()};
  if (table.has("pin_retries") && !disk.encrypted.value) {
    table.diagnostics().error(rule::kPinRetriesUnencrypted, table.where(),
                              "pin_retries is set on a disk that is not encrypted",
                              "set encrypted = true, or remove pin_retries");
  }
  assign(disk.pin_retries, table.integer_as<std::uint32_t>("pin_retries", Presence::optional,
                                                          limits::kMinPinRetries, limits::kMaxPinRetries));
  table.finish();
  return disk;
}

Network read_network(TableReader table) {
  Network network;
  network.where = table.where();
  assign(network.name, table.string("name", Presence::required));
  if (auto reach = table.strings("reach", Presence::required, limits::kMaxReachEntries)) {
    network.reach = std::move(*reach);
  }
  network.subnet = table.string("subnet", Presence::optional);
  network.tunnel = table.choice<Tunnel>("tunnel", Presence::optional, kTunnels);
  table.finish();
  return network;
}

Devices read_devices(TableReader table) {
  Devices devices;
  devices.where = table.where();
  devices.display = read_flag(table, "display");
  devices.input = read_flag(table, "input");
  devices.storage = read_flag(table, "storage");
  devices.camera = read_flag(table, "camera");
  devices.gps = read_flag(table, "gps");
  devices.wifi = read_flag(table, "wifi");
  devices.bluetooth = read_flag(table, "bluetooth");
  devices.usb = read_flag(table, "usb");
  table.finish();
  return devices;
}

PersonaModem read_persona_modem(TableReader table) {
  PersonaModem modem;
  modem.where = table.where();
  assign(modem.channel, table.integer_as<std::uint8_t>("channel", Presence::required,
                                                       limits::kMinModemChannel,
                                                       limits::kMaxModemChannel));
  if (auto families = table.strings("at_families", Presence::required, kAtFamilies.size() * 2)) {
    modem.at_families.where = table.location_of_key("at_families");
    std::vector<std::string_view> names;
    for (const auto& choice : kAtFamilies) names.push_back(choice.name);
    for (const auto& family : *families) {
      bool found = false;
      for (const auto& choice : kAtFamilies) {
        if (choice.name == family.value) {
          modem.at_families.value.insert(choice.value);
          found = true;
        }
      }
      if (!found) table.report_bad_choice("at_families", family, names);
    }
  }
  modem.dial = read_flag(table, "dial");
  modem.answer = read_flag(table, "answer");
  modem.sms_per_hour = table.integer_as<std::uint32_t>("sms_per_hour", Presence::optional,
                                                       limits::kMinSmsPerHour, limits::kMaxSmsPerHour);
  table.finish();
  return modem;
}

Restart read_restart(TableReader table) {
  Restart restart;
  restart.where = table.where();
  restart.policy = {RestartPolicy::on_crash, table.where()};
  restart.max_attempts = {static_cast<std::uint32_t>(limits::kDefaultRestartAttempts),
                          table.where()};
  restart.window_seconds = {static_cast<std::uint32_t>(limits::kDefaultRestartWindowSeconds),
                            table.where()};
  assign(restart.policy,
         table.choice<RestartPolicy>("policy", Presence::optional, kRestartPolicies));
  assign(restart.max_attempts,
         table.integer_as<std::uint32_t>("max_attempts", Presence::optional,
                                         limits::kMinRestartAttempts,
                                         limits::kMaxRestartAttempts));
  assign(restart.window_seconds,
         table.integer_as<std::uint32_t>("window_seconds", Presence::optional,
                                         limits::kMinRestartWindowSeconds,
                                         limits::kMaxRestartWindowSeconds));
  table.finish();
  return restart;
}

// Returns nullopt when the persona's name or kind could not be read (see
// Policy::unidentified_personas); the rest of the table is still checked.
std::optional<Persona> read_persona(TableReader table) {
  Persona persona;
  persona.where = table.where();
  auto name = table.string("name", Presence::required);
  auto kind = table.choice<PersonaKind>("kind", Presence::required, kKinds);
  if (name) table.set_context("[[persona]] " + detail::excerpt(name->value));
  const std::string context = table.context();

  assign(persona.memory_mib, table.integer_as<std::uint32_t>("memory_mib", Presence::required,
                                                            limits::kMinPersonaMemoryMib,
                                                            limits::kMaxPersonaMemoryMib));
  assign(persona.vcpus, table.integer_as<std::uint32_t>("vcpus", Presence::required,
                                                       limits::kMinVcpus, limits::kMaxVcpus));
  read_path(table, "kernel", Presence::required, persona.kernel);
  persona.initrd = read_optional_path(table, "initrd");
  persona.cmdline = {std::string(), table.where()};
  if (auto cmdline = table.string("cmdline", Presence::optional)) {
    if (cmdline->value.size() > limits::kMaxCmdlineLength) {
      table.diagnostics().error(rule::kOutOfRange, cmdline->where,
                                "'cmdline' in " + context + " is " +
                                    std::to_string(cmdline->value.size()) + " bytes long",
                                "at most " + std::to_string(limits::kMaxCmdlineLength) +
                                    " bytes are allowed");
    } else {
      persona.cmdline = std::move(*cmdline);
    }
  }
  for (auto& disk : table.tables("disk", Presence::optional, limits::kMaxDisksPerPersona,
                                 "[[persona.disk]] of " + context)) {
    persona.disks.push_back(read_disk(std::move(disk)));
  }
  for (auto& network : table.tables("network", Presence::optional,
                                    limits::kMaxNetworksPerPersona,
                                    "[[persona.network]] of " + context)) {
    persona.networks.push_back(read_network(std::move(network)));
  }
  if (auto devices = table.table("devices", Presence::optional, "[persona.devices] of " + context)) {
    persona.devices = read_devices(std::move(*devices));
  } else {
    persona.devices.where = persona.where;
    for (auto* flag : {&persona.devices.display, &persona.devices.input, &persona.devices.storage,
                       &persona.devices.camera, &persona.devices.gps, &persona.devices.wifi,
                       &persona.devices.bluetooth, &persona.devices.usb}) {
      flag->where = persona.where;
    }
  }
  if (auto modem = table.table("modem", Presence::optional, "[persona.modem] of " + context)) {
    persona.modem = read_persona_modem(std::move(*modem));
  }
  if (auto restart = table.table("restart", Presence::optional, "[persona.restart] of " + context)) {
    persona.restart = read_restart(std::move(*restart));
  } else {
    persona.restart.where = persona.where;
    persona.restart.policy = {RestartPolicy::on_crash, persona.where};
    persona.restart.max_attempts = {static_cast<std::uint32_t>(limits::kDefaultRestartAttempts),
                                    persona.where};
    persona.restart.window_seconds = {
        static_cast<std::uint32_t>(limits::kDefaultRestartWindowSeconds), persona.where};
  }
  table.finish();
  if (!name || !kind) return std::nullopt;
  persona.name = std::move(*name);
  persona.kind = *kind;
  return persona;
}

void read_version(TableReader& root) {
  const toml::node* version = root.node("version");
  if (version == nullptr) {
    root.diagnostics().error(rule::kMissingKey, root.where(), "missing required key 'version'",
                             "add `version = " + std::to_string(limits::kSchemaVersion) +
                                 "` at the top of the file");
    return;
  }
  const auto* number = version->as_integer();
  if (number == nullptr) {
    root.report_wrong_type("version", *version, "an integer");
    return;
  }
  if (number->get() != limits::kSchemaVersion) {
    root.diagnostics().error(rule::kUnsupportedVersion, detail::location_of(version->source()),
                             "policy schema version " + std::to_string(number->get()) +
                                 " is not supported",
                             "this twofold reads version " +
                                 std::to_string(limits::kSchemaVersion));
  }
}

Policy read_policy(TableReader root, std::string source) {
  Policy policy;
  policy.source = std::move(source);
  read_version(root);
  assign(policy.default_foreground, root.string("default_foreground", Presence::required));
  if (auto board = root.table("board", Presence::required, "[board]")) {
    policy.board = read_board(std::move(*board));
  }
  if (auto key = root.table("hardware_key", Presence::required, "[hardware_key]")) {
    policy.hardware_key = read_hardware_key(std::move(*key));
  }
  if (auto modem = root.table("modem", Presence::required, "[modem]")) {
    policy.modem = read_modem(std::move(*modem));
  }
  if (auto audit = root.table("audit", Presence::required, "[audit]")) {
    policy.audit = read_audit(std::move(*audit));
  }
  if (auto organisation = root.table("organisation", Presence::optional, "[organisation]")) {
    policy.organisation = read_organisation(std::move(*organisation));
  }
  for (auto& table : root.tables("persona", Presence::required, limits::kMaxPersonas,
                                 "[[persona]]")) {
    if (auto persona = read_persona(std::move(table))) {
      policy.personas.push_back(std::move(*persona));
    } else {
      ++policy.unidentified_personas;
    }
  }
  root.finish();
  return policy;
}

}  // namespace

LoadResult load_policy(std::string_view text, std::string_view source_name) {
  LoadResult result;
  Diagnostics diagnostics{std::string(source_name)};
  if (text.size() > limits::kMaxPolicyBytes) {
    diagnostics.error(rule::kIoTooLarge, {}, "the policy is larger than the size limit",
                      "a policy may be at most " + std::to_string(limits::kMaxPolicyBytes) +
                          " bytes");
    result.status = LoadStatus::unreadable;
    result.findings = std::move(diagnostics).take();
    return result;
  }
  if (const auto hazard = detail::first_parser_hazard(text)) {
    char code[16];
    std::snprintf(code, sizeof code, "U+%04X", static_cast<unsigned>(hazard->code_point));
    diagnostics.error(rule::kTomlUnsupportedCharacter, hazard->where,
                      std::string("character ") + code +
                          " is not accepted here: this build's TOML parser mishandles it",
                      std::string("inside a double-quoted string write it as \\u") +
                          (code + 2) + "; elsewhere use ASCII");
    result.status = LoadStatus::syntax_error;
    result.findings = std::move(diagnostics).take();
    return result;
  }
  if (const auto header = detail::first_dotted_table_header(text)) {
    diagnostics.error(rule::kTomlSyntax, *header, "TOML syntax error: a table name cannot start with '.'",
                      "write the table's name without the leading '.', e.g. [modem.route]");
    result.status = LoadStatus::syntax_error;
    result.findings = std::move(diagnostics).take();
    return result;
  }
  toml::parse_result parsed = toml::parse(text, std::string(source_name));
  if (!parsed) {
    const toml::parse_error& error = parsed.error();
    diagnostics.error(rule::kTomlSyntax, detail::location_of(error.source()),
                      "TOML syntax error: " + std::string(error.description()),
                      "fix the syntax here first; the rest of the file could not be checked");
    result.status = LoadStatus::syntax_error;
    result.findings = std::move(diagnostics).take();
    return result;
  }
  result.policy = read_policy(TableReader(parsed.table(), "the top level", diagnostics),
                              std::string(source_name));
  result.status = LoadStatus::loaded;
  result.findings = std::move(diagnostics).take();
  return result;
}

LoadResult load_policy_file(const std::filesystem::path& file) {
  const std::string name = file.string();
  std::ifstream in(file, std::ios::binary);
  std::error_code ec;
  const bool regular = std::filesystem::is_regular_file(file, ec);
  if (!in || !regular) {
    LoadResult result;
    result.status = LoadStatus::unreadable;
    result.findings.push_back(Finding{Severity::error, name, {}, std::string(rule::kIoUnreadable),
                                      regular ? "cannot open the file for reading"
                                              : "no such regular file",
                                      "check the path and permissions"});
    return result;
  }
  // Read one byte past the limit so that an oversized file is refused without reading it all.
  std::string text(limits::kMaxPolicyBytes + 1, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  if (in.bad()) {
    LoadResult result;
    result.status = LoadStatus::unreadable;
    result.findings.push_back(Finding{Severity::error, name, {}, std::string(rule::kIoUnreadable),
                                      "read error", "check the file and the medium it is on"});
    return result;
  }
  text.resize(static_cast<std::size_t>(in.gcount()));
  return load_policy(text, name);
}

}  // namespace twofold::policy
