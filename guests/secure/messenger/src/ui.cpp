#include "ui.h"

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <ctime>
#include <cstring>
#include <memory>
#include <linux/kd.h>
#include <ncurses.h>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/spdlog.h>
#include <spawn.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "twofold/messenger/client.h"
#include "twofold/messenger/conversations.h"
#include "twofold/messenger/in_front.h"

namespace twofold::messenger {
namespace {

// Set by the signal handler only; read by the loop (the one piece of process-wide state a
// signal handler needs).
volatile std::sig_atomic_t stop_requested = 0;
void request_stop(int) { stop_requested = 1; }

struct Screen {
  Screen(const Screen&) = delete;
  Screen& operator=(const Screen&) = delete;
  explicit Screen(const std::string& tty) {
    if (!tty.empty()) {
      in_ = std::fopen(tty.c_str(), "r");
      out_ = std::fopen(tty.c_str(), "w");
      if (!in_ || !out_) throw std::runtime_error("cannot open " + tty);
      // A Linux virtual console left in graphics mode (the lab's framebuffer test pattern
      // sets KD_GRAPHICS so that fbcon keeps off it) would draw none of this screen. On a
      // terminal that is not a virtual console the call fails, which is harmless.
      (void)ioctl(fileno(out_), KDSETMODE, KD_TEXT);
      screen_ = newterm(nullptr, out_, in_);
      if (!screen_) throw std::runtime_error("newterm failed on " + tty);
      set_term(screen_);
    } else {
      initscr();
    }
    cbreak();
    noecho();
    keypad(stdscr, TRUE);
    timeout(0);  // getch never blocks: the loop also drives the XMPP connection
    curs_set(1);
    // On the board the console's tty has been taking keys before the screen existed (typed
    // at the persona while it was still unenrolled): they were not meant for the compose line.
    flushinp();
  }
  ~Screen() {
    endwin();
    if (screen_) delscreen(screen_);
    if (in_) std::fclose(in_);
    if (out_) std::fclose(out_);
  }
  SCREEN* screen_ = nullptr;
  FILE* in_ = nullptr;
  FILE* out_ = nullptr;
};

std::string clock_of(std::int64_t unix_time) {
  const std::time_t t = static_cast<std::time_t>(unix_time);
  std::tm tm{};
  localtime_r(&t, &tm);
  char buf[8];
  std::strftime(buf, sizeof buf, "%H:%M", &tm);
  return buf;
}

void put(int y, int x, const std::string& s, int width) {
  if (width <= 0) return;
  mvaddnstr(y, x, s.c_str(), width);
}

void draw(const Client& client, const Conversations& conv, const ComposeLine& compose) {
  erase();
  const int h = LINES;
  const int w = COLS;
  const int left = std::min(28, w / 3);
  attron(A_REVERSE);
  mvhline(0, 0, ' ', w);
  put(0, 1, "SECURE  " + client.provisioning().account.bare() + "  " + (client.online() ? "online" : "offline"), w - 2);
  attroff(A_REVERSE);
  int y = 2;
  for (const auto& row : conv.rows()) {
    if (y >= h - 2) break;
    const std::string line = std::string(row.selected ? "> " : "  ") + row.title +
                             (row.unread ? " (" + std::to_string(row.unread) + ")" : "");
    if (row.selected) attron(A_BOLD);
    put(y++, 0, line, left - 1);
    if (row.selected) attroff(A_BOLD);
  }
  // Plain ASCII rules: the same on the Linux framebuffer console, a terminal and a screen dump.
  mvvline(1, left, '|', h - 2);
  const auto area = static_cast<std::size_t>(std::max(0, h - 4));
  y = 2;
  for (const auto* e : conv.messages(client.history(), area)) {
    std::string mark;
    if (e->direction == Direction::outgoing) {
      mark = e->state == Delivery::displayed ? " [read]" : e->state == Delivery::delivered ? " [delivered]" : " [sent]";
    }
    const auto who = e->direction == Direction::outgoing ? std::string("me") : e->sender.substr(0, e->sender.find('@'));
    put(y++, left + 2, clock_of(e->unix_time) + " " + who + ": " + e->text + mark, w - left - 3);
  }
  mvhline(h - 2, 0, '-', w);
  put(h - 1, 0, "> " + compose.text(), w - 1);
  move(h - 1, std::min(w - 1, static_cast<int>(2 + compose.text().size())));
  refresh();
}

void mark_latest_displayed(Client& client, const Conversations& conv) {
  if (conv.selected_is_group()) return;  // markers go to one peer; a group has many
  const auto msgs = conv.messages(client.history(), 64);
  for (auto it = msgs.rbegin(); it != msgs.rend(); ++it) {
    if ((*it)->direction == Direction::incoming) {
      if (const auto jid = Jid::parse(conv.selected())) client.mark_displayed(*jid, (*it)->id);
      return;
    }
  }
}

}  // namespace

namespace {

// Starts the notice program without waiting for it; finished ones are reaped in the loop.
// Nothing of the message is passed: the program only learns that one arrived.
void notify(const std::string& program) {
  if (program.empty()) return;
  char* const argv[] = {const_cast<char*>(program.c_str()), nullptr};
  pid_t pid = 0;
  if (const int rc = posix_spawn(&pid, program.c_str(), nullptr, nullptr, argv, environ); rc != 0) {
    spdlog::warn("messenger: cannot run {}: {}", program, std::strerror(rc));
  }
}

void reap_notifiers() {
  int status = 0;
  while (waitpid(-1, &status, WNOHANG) > 0) {
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) spdlog::warn("messenger: the notice program failed");
  }
}

}  // namespace

int run_ui(const std::filesystem::path& provisioning_file, const std::filesystem::path& state_dir, const std::string& tty,
           const std::string& on_message) {
  auto loaded = load_provisioning(provisioning_file);
  if (const auto* e = std::get_if<ProvisioningError>(&loaded)) {
    spdlog::error("messenger: provisioning refused: {}", e->reason);
    return 2;
  }
  // The screen is the UI's: log lines go to a file on the sealed volume instead.
  std::filesystem::create_directories(state_dir);
  spdlog::set_default_logger(spdlog::basic_logger_mt("messenger", (state_dir / "messenger.log").string()));
  spdlog::flush_on(spdlog::level::info);
  std::signal(SIGTERM, request_stop);
  std::signal(SIGINT, request_stop);

  const auto& provisioning = std::get<Provisioning>(loaded);
  Conversations conv(provisioning);
  ComposeLine compose;
  bool dirty = true;
  // Not while another persona or dom0's PIN prompt is on screen: a read marker says a person saw it.
  const auto in_front = InFrontWatch::open("/dev/xen/xenbus");
  const auto seen = [&] { return !in_front || in_front->in_front(); };
  ClientEvents events;
  Client* self = nullptr;
  events.message = [&](const HistoryEntry& e) {
    conv.arrived(e);
    notify(on_message);
    if (e.conversation == conv.selected() && self && seen()) mark_latest_displayed(*self, conv);
    dirty = true;
  };
  events.delivery = [&](const std::string&, const std::string&, Delivery) { dirty = true; };
  events.connection = [&](bool) { dirty = true; };
  Client client(provisioning, state_dir, std::move(events));
  self = &client;
  Screen screen(tty);
  client.connect();
  auto next_retry = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!stop_requested) {
    client.run_once(std::chrono::milliseconds(30));
    reap_notifiers();
    if (in_front && in_front->poll() && in_front->in_front()) {
      mark_latest_displayed(client, conv);  // what arrived in the background is on screen now
      dirty = true;
    }
    // The tunnel may come up after the persona, or drop: keep trying to connect, every 5 s.
    if (!client.online() && !client.connecting() && std::chrono::steady_clock::now() > next_retry) {
      client.connect();
      next_retry = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    }
    for (int ch = getch(); ch != ERR; ch = getch()) {
      dirty = true;
      if (ch == KEY_UP) {
        conv.select_previous();
      } else if (ch == KEY_DOWN || ch == '\t') {
        conv.select_next();
      } else if (ch == '\n' || ch == '\r' || ch == KEY_ENTER) {
        if (compose.text().empty()) continue;
        const auto text = compose.take();
        if (conv.selected_is_group()) {
          client.send_group(conv.selected().substr(6), text);
        } else if (const auto jid = Jid::parse(conv.selected())) {
          client.send(*jid, text);
        }
        continue;
      } else {
        compose.key(ch);
        continue;
      }
      conv.opened();
      mark_latest_displayed(client, conv);
    }
    if (dirty) {
      draw(client, conv, compose);
      dirty = false;
    }
  }
  client.disconnect();
  return 0;
}

}  // namespace twofold::messenger
