// twofold-messenger: the secure persona's messenger.
//   keygen                       print a fresh identity key pair (the organisation's enrolment)
//   ui --provisioning F --state D [--tty T]
//                                the screen (src/ui.cpp): conversation list, messages, compose
//   run --provisioning F --state D
//                                connect and serve a line interface on stdin/stdout:
//                                  /to JID TEXT, /group ID TEXT, /read JID ID, /quit
//                                incoming lines: "<< conversation sender: text", receipts "== id delivered"
#include <CLI/CLI.hpp>
#include <iostream>
#include <csignal>
#include <poll.h>
#include <spdlog/spdlog.h>
#include <string>
#include <unistd.h>

#include "twofold/messenger/client.h"
#include "ui.h"

using namespace twofold::messenger;

namespace {

int keygen() {
  const auto pair = generate_identity_key_pair();
  std::cout << "identity_public = \"" << base64_encode(pair.public_key) << "\"\n"
            << "identity_private = \"" << base64_encode(pair.private_key) << "\"\n";
  return 0;
}

void command(Client& client, const std::string& line, bool& quit) {
  const auto space = line.find(' ');
  const auto verb = line.substr(0, space);
  const auto rest = space == std::string::npos ? std::string{} : line.substr(space + 1);
  const auto space2 = rest.find(' ');
  const auto arg = rest.substr(0, space2);
  const auto text = space2 == std::string::npos ? std::string{} : rest.substr(space2 + 1);
  if (verb == "/quit") {
    quit = true;
  } else if (verb == "/to") {
    const auto jid = Jid::parse(arg);
    const auto id = jid ? client.send(*jid, text) : std::nullopt;
    std::cout << (id ? "== " + *id + " queued" : "!! refused (unknown contact or bad text)") << std::endl;
  } else if (verb == "/group") {
    const auto id = client.send_group(arg, text);
    std::cout << (id ? "== " + *id + " queued" : "!! refused (unknown group or bad text)") << std::endl;
  } else if (verb == "/read") {
    if (const auto jid = Jid::parse(arg)) client.mark_displayed(*jid, text);
  } else {
    std::cout << "!! commands: /to JID TEXT, /group ID TEXT, /read JID ID, /quit" << std::endl;
  }
}

int run(const std::string& provisioning_file, const std::string& state_dir) {
  auto loaded = load_provisioning(provisioning_file);
  if (const auto* e = std::get_if<ProvisioningError>(&loaded)) {
    spdlog::error("messenger: provisioning refused: {}", e->reason);
    return 2;
  }
  ClientEvents events;
  events.message = [](const HistoryEntry& e) {
    std::cout << "<< " << e.conversation << " " << e.sender << ": " << e.text << std::endl;
  };
  events.delivery = [](const std::string& peer, const std::string& id, Delivery d) {
    std::cout << "== " << id << (d == Delivery::displayed ? " read by " : " delivered to ") << peer << std::endl;
  };
  events.connection = [](bool online) { std::cout << (online ? "== online" : "== offline") << std::endl; };
  Client client(std::get<Provisioning>(loaded), state_dir, std::move(events));
  client.connect();
  bool quit = false;
  std::string buffered;
  while (!quit) {
    client.run_once(std::chrono::milliseconds(50));
    pollfd in{STDIN_FILENO, POLLIN, 0};
    if (poll(&in, 1, 0) <= 0) continue;
    char chunk[512];
    const auto n = read(STDIN_FILENO, chunk, sizeof chunk);
    if (n <= 0) break;
    buffered.append(chunk, static_cast<std::size_t>(n));
    for (auto nl = buffered.find('\n'); nl != std::string::npos; nl = buffered.find('\n')) {
      command(client, buffered.substr(0, nl), quit);
      buffered.erase(0, nl + 1);
    }
  }
  client.disconnect();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  // libstrophe writes with send() without MSG_NOSIGNAL: a server or tunnel that went away
  // would kill the process with SIGPIPE instead of giving the client a disconnect to handle.
  std::signal(SIGPIPE, SIG_IGN);
  CLI::App app{"twofold-messenger: end-to-end encrypted messaging (XMPP + OMEMO)"};
  app.require_subcommand(1);
  auto* gen = app.add_subcommand("keygen", "print a fresh identity key pair");
  std::string provisioning;
  std::string state;
  auto* run_cmd = app.add_subcommand("run", "connect and serve the line interface");
  run_cmd->add_option("--provisioning", provisioning, "the organisation's provisioning file")->required();
  run_cmd->add_option("--state", state, "keys and history (on the board: /data/messenger)")->required();
  std::string tty;
  auto* ui_cmd = app.add_subcommand("ui", "the screen: conversation list, messages, compose");
  ui_cmd->add_option("--provisioning", provisioning, "the organisation's provisioning file")->required();
  ui_cmd->add_option("--state", state, "keys and history (on the board: /data/messenger)")->required();
  ui_cmd->add_option("--tty", tty, "terminal to draw on (default: this one; board: /dev/tty1)");
  std::string on_message;
  ui_cmd->add_option("--on-message", on_message,
                     "program to run (no arguments) when a message arrives; board: /usr/bin/twofold-notify");
  CLI11_PARSE(app, argc, argv);
  try {
    if (gen->parsed()) return keygen();
    if (ui_cmd->parsed()) return run_ui(provisioning, state, tty, on_message);
    return run(provisioning, state);
  } catch (const std::exception& e) {
    spdlog::error("messenger: {}", e.what());
    return 1;
  }
}
