#pragma once
// Streaming parser for what a guest writes to its virtual modem: command lines, "A/", and
// SMS bodies. Bytes may arrive in any chunking; the result never depends on it.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "twofold/modem/at/command.h"
#include "twofold/modem/at/errors.h"
#include "twofold/modem/at/limits.h"
#include "twofold/modem/at/sms.h"

namespace twofold::modem::at {

struct CommandLineEvent {
  std::string raw;   // the line as received (after S5 backspace editing), no terminator
  CommandLine line;
};
struct RepeatEvent {};  // "A/": repeat the previous command line (V.250 §5.2.4)
struct SmsTextEvent {
  SmsText body;
};
struct SmsPduEvent {
  SmsPdu body;
};
struct SmsCancelledEvent {};  // ESC ended the body
struct CommandErrorEvent {
  ParseError error;
  std::string raw;  // at most kMaxCommandLineLength bytes of the offending line or body
};

using CommandEvent = std::variant<CommandLineEvent, RepeatEvent, SmsTextEvent, SmsPduEvent,
                                  SmsCancelledEvent, CommandErrorEvent>;

struct CommandStep {
  std::size_t consumed = 0;           // bytes of the input used, up to and including the event's
  std::optional<CommandEvent> event;  // set when a line, body or error completed
};

class CommandStream {
 public:
  enum class Mode : std::uint8_t { kCommand, kSmsText, kSmsPdu };

  struct Config {
    char line_terminator = '\r';  // S3
    char backspace = '\b';        // S5
  };

  CommandStream() : CommandStream(Config{}) {}
  explicit CommandStream(Config config) : config_(config) {}

  // Consumes bytes until one event completes (then stops, so that the caller can switch to
  // body mode before the next byte) or the input is exhausted.
  CommandStep consume(std::string_view untrusted_bytes);

  // Feeds a whole chunk, calling sink(CommandEvent&&) per event. The sink may switch modes.
  template <typename Sink>
  void feed(std::string_view untrusted_bytes, Sink&& sink) {
    while (!untrusted_bytes.empty()) {
      CommandStep step = consume(untrusted_bytes);
      untrusted_bytes.remove_prefix(step.consumed);
      if (step.event) sink(std::move(*step.event));
    }
  }

  // After the caller has sent the "> " prompt for +CMGS/+CMGW: the next bytes are a body.
  // Any partial command line is dropped (a well-behaved client sends nothing before "> ").
  void enter_text_body();
  // PDU mode: tpdu_length is the +CMGS/+CMGW <length>; outside 1..kMaxTpduOctets it is
  // refused and the stream stays in command mode.
  std::optional<ParseError> enter_pdu_body(std::uint32_t tpdu_length);

  // Drops partial input and returns to command mode (timeouts, guest reset).
  void reset();

  void set_config(Config config) { config_ = config; }
  Mode mode() const noexcept { return mode_; }
  // True while a line or body has started but not ended (a half-sent command).
  bool has_partial_input() const noexcept { return !buffer_.empty() || overflowed_; }

 private:
  bool is_line_control(char byte) const noexcept;
  void append_bounded(std::string_view run, std::size_t limit);
  std::optional<CommandEvent> on_command_byte(char byte);
  std::optional<CommandEvent> on_body_byte(char byte);
  std::optional<CommandEvent> finish_line();
  std::optional<CommandEvent> finish_body();
  void clear_body();

  Config config_;
  Mode mode_ = Mode::kCommand;
  std::string buffer_;       // never longer than the mode's limit
  bool overflowed_ = false;  // limit exceeded: discarding until the terminator
  std::optional<ParseError> body_error_;
  std::size_t body_length_ = 0;  // bytes of the body seen, for error offsets
  std::size_t tpdu_length_ = 0;
};

}  // namespace twofold::modem::at
