#include "twofold/modem/at/command_stream.h"

#include "lexing.h"

namespace twofold::modem::at {

CommandStep CommandStream::consume(std::string_view untrusted_bytes) {
  std::size_t i = 0;
  while (i < untrusted_bytes.size()) {
    if (mode_ == Mode::kCommand) {
      // Copy the run of bytes that cannot end or edit a line in one go; the same bound
      // applies as byte by byte (keep up to the limit, then discard to the terminator).
      std::size_t end = i;
      while (end < untrusted_bytes.size() && !is_line_control(untrusted_bytes[end])) ++end;
      append_bounded(untrusted_bytes.substr(i, end - i), kMaxCommandLineLength);
      i = end;
      if (i == untrusted_bytes.size()) break;
    }
    const char byte = untrusted_bytes[i++];
    std::optional<CommandEvent> event =
        mode_ == Mode::kCommand ? on_command_byte(byte) : on_body_byte(byte);
    if (event) return {i, std::move(event)};
  }
  return {untrusted_bytes.size(), std::nullopt};
}

bool CommandStream::is_line_control(char byte) const noexcept {
  return byte == config_.line_terminator || byte == '\n' || byte == config_.backspace || byte == '/';
}

void CommandStream::append_bounded(std::string_view run, std::size_t limit) {
  if (overflowed_ || run.empty()) return;
  const std::size_t room = limit - buffer_.size();
  if (run.size() > room) {
    buffer_.append(run.substr(0, room));
    overflowed_ = true;
    return;
  }
  buffer_.append(run);
}

std::optional<CommandEvent> CommandStream::on_command_byte(char byte) {
  // S3 ends a line; a lone LF does too, so "AT\r\n" and "AT\n" both work and the LF of a
  // CR LF pair ends an empty line, which is ignored.
  if (byte == config_.line_terminator || byte == '\n') return finish_line();
  if (overflowed_) return std::nullopt;
  if (byte == config_.backspace) {
    if (!buffer_.empty()) buffer_.pop_back();
    return std::nullopt;
  }
  // V.250 §5.2.4: "A/" repeats the last line at once, with no terminator.
  if (byte == '/' && buffer_.size() == 1 && detail::to_upper(buffer_[0]) == 'A') {
    buffer_.clear();
    return RepeatEvent{};
  }
  if (buffer_.size() >= kMaxCommandLineLength) {
    overflowed_ = true;  // keep what we have for the report; drop the rest of the line
    return std::nullopt;
  }
  buffer_.push_back(byte);
  return std::nullopt;
}

std::optional<CommandEvent> CommandStream::finish_line() {
  std::string raw = std::move(buffer_);
  buffer_.clear();
  if (overflowed_) {
    overflowed_ = false;
    return CommandErrorEvent{{ErrorReason::kLineTooLong, kMaxCommandLineLength}, std::move(raw)};
  }
  if (raw.empty()) return std::nullopt;
  auto parsed = parse_command_line(raw);
  if (!parsed) return CommandErrorEvent{parsed.error(), std::move(raw)};
  return CommandLineEvent{std::move(raw), std::move(parsed).value()};
}

std::optional<CommandEvent> CommandStream::on_body_byte(char byte) {
  if (byte == kCancelByte) {
    clear_body();
    return SmsCancelledEvent{};
  }
  if (byte == kSubmitByte) return finish_body();
  const std::size_t offset = body_length_++;
  if (mode_ == Mode::kSmsText) {
    if (byte == config_.backspace) {
      if (!buffer_.empty() && !overflowed_) buffer_.pop_back();
      return std::nullopt;
    }
    // Line breaks are part of a text body (27.005 §3.5.1); other control bytes are not.
    if (detail::is_control(byte) && byte != '\r' && byte != '\n' && !body_error_) {
      body_error_ = ParseError{ErrorReason::kInvalidBodyCharacter, offset};
    }
    if (buffer_.size() >= kMaxSmsTextBodyLength) {
      overflowed_ = true;
      return std::nullopt;
    }
  } else {
    // Some clients send CR or LF between the hex digits and Ctrl-Z: not part of the PDU.
    if (byte == '\r' || byte == '\n' || byte == ' ') return std::nullopt;
    if (detail::hex_value(byte) < 0 && !body_error_) {
      body_error_ = ParseError{ErrorReason::kInvalidBodyCharacter, offset};
    }
    if (buffer_.size() >= kMaxPduHexLength) {
      overflowed_ = true;
      return std::nullopt;
    }
  }
  buffer_.push_back(byte);
  return std::nullopt;
}

std::optional<CommandEvent> CommandStream::finish_body() {
  std::string raw = std::move(buffer_);
  const Mode mode = mode_;
  const bool overflowed = overflowed_;
  const std::optional<ParseError> body_error = body_error_;
  const std::size_t tpdu_length = tpdu_length_;
  clear_body();
  if (overflowed) {
    const std::size_t limit = mode == Mode::kSmsText ? kMaxSmsTextBodyLength : kMaxPduHexLength;
    return CommandErrorEvent{{ErrorReason::kBodyTooLong, limit}, std::move(raw)};
  }
  if (body_error) return CommandErrorEvent{*body_error, std::move(raw)};
  if (mode == Mode::kSmsText) return SmsTextEvent{SmsText{std::move(raw)}};
  auto pdu = parse_pdu_hex(raw, tpdu_length);
  if (!pdu) return CommandErrorEvent{pdu.error(), std::move(raw)};
  return SmsPduEvent{std::move(pdu).value()};
}

void CommandStream::clear_body() {
  buffer_.clear();
  overflowed_ = false;
  body_error_.reset();
  body_length_ = 0;
  tpdu_length_ = 0;
  mode_ = Mode::kCommand;
}

void CommandStream::enter_text_body() {
  clear_body();
  mode_ = Mode::kSmsText;
}

std::optional<ParseError> CommandStream::enter_pdu_body(std::uint32_t tpdu_length) {
  if (tpdu_length == 0 || tpdu_length > kMaxTpduOctets) {
    return ParseError{ErrorReason::kInvalidPduLength, 0};
  }
  clear_body();
  mode_ = Mode::kSmsPdu;
  tpdu_length_ = tpdu_length;
  return std::nullopt;
}

void CommandStream::reset() { clear_body(); }

}  // namespace twofold::modem::at
