#include "manager_commands.h"

#include <poll.h>
#include <termios.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <iomanip>
#include <iostream>
#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "run.h"
#include "twofold/xen/unique_fd.h"

namespace twofold::cli {
namespace {

using nlohmann::json;

constexpr const char* kDefaultSocket = "/run/twofold/control.sock";
// A switch waits for every backend's acknowledgement; a shutdown for the personas to power off
// (the manager's --shutdown-timeout, 20 s by default).
constexpr int kReplyTimeoutMs = 60000;
// A volume request runs argon2id and TPM round trips, up to three keystore calls on a first
// unlock (unlock, provision, unlock), each bounded by the manager at 120 s.
constexpr int kVolumeReplyTimeoutMs = 400000;

struct Options {
  std::string socket;
  bool json_output = false;
};

[[noreturn]] void fail(const std::string& message) {
  std::cerr << "twofold: " << message << '\n';
  exit_with(kExitFindings);
}

// One request, one reply line.
json call(const Options& options, const std::string& command, const json& args, int timeout_ms = kReplyTimeoutMs) {
  json request{{"version", 1}, {"id", 1}, {"command", command}};
  if (!args.empty()) request["args"] = args;
  const std::string line = request.dump() + "\n";

  xen::UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (fd.get() < 0 || options.socket.size() >= sizeof(addr.sun_path)) {
    fail("cannot use control socket path '" + options.socket + "'");
  }
  std::memcpy(addr.sun_path, options.socket.c_str(), options.socket.size() + 1);
  if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0) {  // NOLINT
    fail("cannot reach twofold-manager at " + options.socket + ": " + std::strerror(errno) +
         " (is it running? use --socket or TWOFOLD_SOCKET for another path)");
  }
  for (std::size_t sent = 0; sent < line.size();) {
    const auto n = ::send(fd.get(), line.data() + sent, line.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) fail(std::string("cannot send request: ") + std::strerror(errno));
    sent += static_cast<std::size_t>(n);
  }
  std::string reply;
  char buf[4096];
  while (reply.find('\n') == std::string::npos) {
    pollfd p{fd.get(), POLLIN, 0};
    if (::poll(&p, 1, timeout_ms) <= 0) {
      fail("twofold-manager did not answer within " + std::to_string(timeout_ms / 1000) + " s");
    }
    const auto n = ::recv(fd.get(), buf, sizeof(buf), 0);
    if (n <= 0) fail("twofold-manager closed the connection without an answer");
    reply.append(buf, static_cast<std::size_t>(n));
  }
  json doc = json::parse(reply.substr(0, reply.find('\n')), nullptr, false);
  if (doc.is_discarded() || !doc.is_object() || !doc.contains("ok")) fail("unreadable answer from twofold-manager");
  return doc;
}

// Prints the reply; an error reply ends the command with exit code 1.
void finish(const Options& options, const json& reply, const std::function<void(const json&)>& human) {
  const bool ok = reply.value("ok", false);
  if (options.json_output) {
    std::cout << (ok ? reply["result"] : reply["error"]).dump(2) << '\n';
  } else if (ok) {
    human(reply["result"]);
  } else {
    std::cerr << "twofold: " << reply["error"].value("message", "request failed") << " ["
              << reply["error"].value("code", "?") << "]\n";
  }
  if (!ok) exit_with(kExitFindings);
}

void print_status(const json& r) {
  std::cout << "foreground: " << r.value("foreground", "?");
  if (r.contains("switching_to") && !r["switching_to"].is_null()) {
    std::cout << " (switching to " << r["switching_to"].get<std::string>() << ")";
  }
  if (r.contains("pin_prompt") && r["pin_prompt"].value("open", false)) {
    // dom0's PIN prompt holds the screen and the keys ("up"), or is opening or closing.
    const auto& p = r["pin_prompt"];
    std::cout << "\npin prompt: " << (p["persona"].is_string() ? p["persona"].get<std::string>() : "?") << ' '
              << (p.value("up", false) ? "up" : "moving") << (p.value("checking", false) ? " (checking the PIN)" : "");
  }
  if (r.contains("notice_marks") && r["notice_marks"].is_array() && !r["notice_marks"].empty()) {
    // Content-free: who has something new, never what.
    std::cout << "\nstrip mark:";
    for (const auto& m : r["notice_marks"]) std::cout << ' ' << (m.is_string() ? m.get<std::string>() : "?") << ": new message";
  }
  std::cout << "\n\n"
            << std::left << std::setw(20) << "PERSONA" << std::setw(10) << "KIND" << std::setw(12) << "STATE"
            << std::setw(7) << "DOMID" << std::setw(11) << "FOREGROUND" << "RESTARTS\n";
  for (const auto& p : r.value("personas", json::array())) {
    // A persona that waits for its data volume's PIN says so (twofold secure status says why).
    std::string state = p.value("state", "?");
    if (p.value("locked", false) && state != "running") state = "locked";
    std::cout << std::setw(20) << p.value("name", "?") << std::setw(10) << p.value("kind", "?") << std::setw(12)
              << state << std::setw(7)
              << (p.contains("domid") && !p["domid"].is_null() ? std::to_string(p["domid"].get<int>()) : "-")
              << std::setw(11) << (p.value("foreground", false) ? "yes" : "") << p.value("restarts", 0) << '\n';
  }
  const auto backends = r.value("backends", json::array());
  if (!backends.empty()) {
    std::cout << '\n' << std::setw(15) << "BACKEND" << std::setw(9) << "PID" << std::setw(12) << "STATE" << std::setw(10)
              << "RESTARTS" << "HOLDS\n";
    for (const auto& b : backends) {
      std::string holds;
      for (const auto& h : b.value("holds", json::array())) {
        holds += (holds.empty() ? "" : ",") + h.get<std::string>();
      }
      std::cout << std::setw(15) << b.value("name", "?") << std::setw(9)
                << (b.contains("pid") && !b["pid"].is_null() ? std::to_string(b["pid"].get<long>()) : "-") << std::setw(12)
                << b.value("state", "?") << std::setw(10) << b.value("restarts", 0) << (holds.empty() ? "-" : holds);
      // A backend whose xenstore the manager proxies (issue 14): what it asked, what was refused.
      if (b.contains("xenstore") && b["xenstore"].is_object()) {
        const auto& xs = b["xenstore"];
        std::cout << "  xenstore=proxy requests=" << xs.value("requests", std::uint64_t{0}) << " denied=" << xs.value("denied", std::uint64_t{0})
                  << " events=" << xs.value("events", std::uint64_t{0});
      }
      std::cout << '\n';
    }
  }
  if (r.contains("libvirt") && r["libvirt"].is_object()) {
    const auto& lv = r["libvirt"];
    std::cout << "\nlibvirt: " << lv.value("uri", "?") << " via " << lv.value("kind", "?");
    if (lv.contains("pid") && lv["pid"].is_number_integer()) std::cout << " (pid " << lv["pid"].get<long>() << ")";
    std::cout << ", restarts " << lv.value("restarts", 0);
    if (lv.contains("last_error") && lv["last_error"].is_string()) {
      std::cout << ", last error: " << lv["last_error"].get<std::string>();
    }
    std::cout << '\n';
  }
  if (r.value("shutting_down", false)) {
    std::cout << "\nSHUTTING DOWN\n";
  }
  if (r.contains("hardware_key")) {
    const auto& k = r["hardware_key"];
    std::cout << "\nhardware key: " << k.value("device", "?")
              << (k.value("open", false) ? " (open)" : (k.value("enabled", false) ? " (not available)" : " (disabled)")) << '\n';
  }
  if (r.contains("audit")) {
    std::cout << "audit: " << r["audit"].value("last_sequence", 0) << " records"
              << (r["audit"].value("failed", false) ? ", WRITER FAILED (state changes refused)" : "")
              << (r["audit"].value("reserve", true) ? "" : ", no disk reserve for the next rotation (disk full?)");
    if (const auto retired = r["audit"].value("files_retired", std::uint64_t{0}); retired > 0) {
      std::cout << ", " << retired << " oldest file(s) deleted by retention";
    }
    std::cout << '\n';
  }
}

// A PIN line from the terminal with echo off (dom0's console: no guest sees these keys), or
// from stdin when it is not a terminal (the lab's harness, the organisation's tooling).
std::string read_pin(const char* prompt) {
  const int fd = STDIN_FILENO;
  termios saved{};
  const bool tty = ::isatty(fd) && ::tcgetattr(fd, &saved) == 0;
  if (tty) {
    // On a line of its own: a harness on the serial console waits for it before typing.
    std::cerr << prompt << " (not shown)\n" << std::flush;
    termios quiet = saved;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    ::tcsetattr(fd, TCSAFLUSH, &quiet);
  }
  std::string pin;
  char c = 0;
  while (::read(fd, &c, 1) == 1 && c != '\n') {
    if (pin.size() > 256) break;
    pin += c;
  }
  if (!pin.empty() && pin.back() == '\r') pin.pop_back();
  if (tty) {
    ::tcsetattr(fd, TCSAFLUSH, &saved);
  }
  if (pin.empty() || pin.size() > 256) fail("a PIN has 1 to 256 characters");
  return pin;
}

void print_volume(const json& r) {
  if (r.contains("provisioned")) {
    std::cout << r.value("persona", "?") << ": " << (r.value("locked", true) ? "locked" : "unlocked")
              << (r.value("provisioned", false) ? "" : " (not provisioned: the first unlock sets the PIN)") << "\n"
              << "tries left: " << r.value("attempts_left", 0) << "\n";
    if (!r.value("changed_pcrs", json::array()).empty()) {
      std::cout << "MEASUREMENTS CHANGED (PCR " << r["changed_pcrs"].dump() << "): the TPM will not release the key\n";
    }
    std::cout << r.value("detail", "") << '\n';
    return;
  }
  std::cout << r.value("persona", "?") << ": " << r.value("detail", r.value("state", "done"));
  if (r.contains("timings_ms") && r["timings_ms"].is_object()) {
    // What the unlock spent where: the TPM's PIN check, then argon2id + dm-crypt.
    std::cout << " (TPM " << r["timings_ms"].value("tpm", 0) << " ms, key derivation " << r["timings_ms"].value("kdf", 0)
              << " ms)";
  }
  std::cout << '\n';
}

void add_common(CLI::App* sub, const std::shared_ptr<Options>& options) {
  sub->add_option("--socket", options->socket, "manager control socket (env TWOFOLD_SOCKET)")
      ->envname("TWOFOLD_SOCKET")
      ->capture_default_str();
  sub->add_flag("--json", options->json_output, "print the manager's answer as JSON");
}

}  // namespace

static void register_secure_commands(CLI::App& app) {
  auto* group = app.add_subcommand(
      "secure", "the secure persona's sealed data volume: TPM-bound key + the officer's PIN (docs/security.md)");
  group->require_subcommand(1);
  struct Verb {
    const char* name;
    const char* command;
    const char* help;
    int pins;
  };
  static constexpr Verb kVerbs[] = {
      {"status", "volume-status", "locked or unlocked, tries left, whether the measurements still match", 0},
      {"unlock", "volume-unlock", "ask for the PIN, open the volume, start the persona (first use: sets the PIN)", 1},
      {"lock", "volume-lock", "stop the persona and close its volume", 0},
      {"change-pin", "volume-change-pin", "current PIN, then the new PIN twice; the data is not re-encrypted", 2},
      {"wipe", "volume-wipe", "crypto-erase: stop the persona, evict the TPM key, destroy every keyslot", 0},
  };
  for (const auto& verb : kVerbs) {
    auto options = std::make_shared<Options>(Options{kDefaultSocket, false});
    auto persona = std::make_shared<std::string>("secure");
    auto confirmed = std::make_shared<bool>(false);
    auto* sub = group->add_subcommand(verb.name, verb.help);
    sub->add_option("--persona", *persona, "persona whose encrypted volume this is")->capture_default_str();
    if (std::string_view(verb.name) == "wipe") {
      sub->add_flag("--yes", *confirmed, "really erase: the data cannot be recovered")->required();
    }
    add_common(sub, options);
    sub->callback([options, persona, verb] {
      json args{{"persona", *persona}};
      if (verb.pins >= 1) args["pin"] = read_pin(verb.pins == 2 ? "current PIN of the persona" : "PIN of the persona");
      if (verb.pins == 2) {
        std::string next = read_pin("new PIN of the persona");
        if (read_pin("new PIN of the persona, again") != next) fail("the two new PINs differ");
        args["new_pin"] = std::move(next);
      }
      if (verb.pins >= 1 && ::isatty(STDERR_FILENO)) {
        std::cerr << "checking the PIN (the key derivation takes a few seconds)...\n" << std::flush;
      }
      finish(*options, call(*options, verb.command, args, kVolumeReplyTimeoutMs), print_volume);
    });
  }
}

void register_manager_commands(CLI::App& app) {
  register_secure_commands(app);
  {
    auto options = std::make_shared<Options>(Options{kDefaultSocket, false});
    auto* sub = app.add_subcommand("status", "show the personas, which one is in the foreground, and the hardware key");
    add_common(sub, options);
    sub->callback([options] { finish(*options, call(*options, "status", json::object()), print_status); });
  }
  {
    auto options = std::make_shared<Options>(Options{kDefaultSocket, false});
    auto persona = std::make_shared<std::string>();
    auto* sub = app.add_subcommand("switch", "bring PERSONA (default: the other one) to the foreground; waits until done");
    sub->add_option("persona", *persona, "persona name from the policy");
    add_common(sub, options);
    sub->callback([options, persona] {
      const json args = persona->empty() ? json::object() : json{{"persona", *persona}};
      finish(*options, call(*options, "switch", args), [](const json& r) {
        std::cout << "foreground: " << r.value("foreground", "?") << (r.value("changed", false) ? "" : " (unchanged)") << '\n';
        if (r.contains("prompt")) {
          std::cout << r.value("prompt", "?") << ": locked; the PIN prompt is on the device's screen\n";
        }
      });
    });
  }
  {
    auto options = std::make_shared<Options>(Options{kDefaultSocket, false});
    auto* sub = app.add_subcommand(
        "shutdown",
        "power the device off cleanly: stop both personas, stop the backends, seal the audit log, then run the manager's "
        "--poweroff-command");
    add_common(sub, options);
    sub->callback([options] {
      finish(*options, call(*options, "shutdown", json::object()), [](const json& r) {
        std::cout << "personas: " << r.value("personas", "?") << "; audit log "
                  << (r.value("audit_sealed", false) ? "sealed" : "NOT sealed") << "; "
                  << (r.contains("poweroff") && !r["poweroff"].is_null() ? "powering off: " + r["poweroff"].get<std::string>()
                                                                           : "no power-off command: the manager exits")
                  << '\n';
      });
    });
  }
  for (const char* verb : {"start", "stop", "restart"}) {
    auto options = std::make_shared<Options>(Options{kDefaultSocket, false});
    auto persona = std::make_shared<std::string>();
    const std::string help = std::string(verb) + " PERSONA" +
                             (std::string(verb) == "stop" ? " (it stays stopped until started again)" : "");
    auto* sub = app.add_subcommand(verb, help);
    sub->add_option("persona", *persona, "persona name from the policy")->required();
    add_common(sub, options);
    sub->callback([options, persona, command = std::string(verb)] {
      finish(*options, call(*options, command, json{{"persona", *persona}}), [&](const json& r) {
        std::cout << r.value("persona", "?") << ": " << r.value("state", "?") << '\n';
      });
    });
  }
}

}  // namespace twofold::cli
