#pragma once
// The messenger's screen: an ncurses text UI on the secure persona's console (on the board
// /dev/tty1, which the kernel's framebuffer console draws on the persona's vfb; keys arrive
// from the vkbd the input backend routes while secure is in front).
#include <filesystem>
#include <string>

namespace twofold::messenger {

// Runs until the process is told to stop (SIGTERM/SIGINT) or the terminal closes.
// `on_message`, when not empty, is a program run (no arguments, nothing of the message) for
// every message that arrives: on the board /usr/bin/twofold-notify, dom0's strip mark.
int run_ui(const std::filesystem::path& provisioning_file, const std::filesystem::path& state_dir,
           const std::string& tty, const std::string& on_message = {});

}  // namespace twofold::messenger
