#include "twofold/modem/at/response_stream.h"

#include <algorithm>

#include "lexing.h"
#include "twofold/modem/at/limits.h"

namespace twofold::modem::at {

ResponseStep ResponseStream::consume(std::string_view untrusted_bytes) {
  for (std::size_t i = 0; i < untrusted_bytes.size(); ++i) {
    const char byte = untrusted_bytes[i];
    if (skip_lf_) {
      skip_lf_ = false;
      if (byte == '\n') continue;
    }
    if (byte == '\r' || byte == '\n') {
      skip_lf_ = (byte == '\r');
      if (auto event = finish_line()) return {i + 1, std::move(event)};
      continue;
    }
    if (overflowed_) continue;
    if (!context_.expect_prompt) {
      // Copy the rest of the line in one go, bounded as byte by byte would be.
      std::size_t end = i;
      while (end < untrusted_bytes.size() && untrusted_bytes[end] != '\r' && untrusted_bytes[end] != '\n') ++end;
      const std::string_view run = untrusted_bytes.substr(i, end - i);
      const std::size_t room = kMaxResponseLineLength - buffer_.size();
      buffer_.append(run.substr(0, std::min(room, run.size())));
      overflowed_ = run.size() > room;
      i = end - 1;  // the loop's ++i lands on the terminator (or the end)
      continue;
    }
    if (buffer_.size() >= kMaxResponseLineLength) {
      overflowed_ = true;
      continue;
    }
    buffer_.push_back(byte);
    // 27.005 §3.5.1: the prompt is "> " with no line terminator after it.
    if (context_.expect_prompt && !pending_header_ && buffer_ == "> ") {
      buffer_.clear();
      ResponseLine prompt;
      prompt.kind = ResponseKind::kPrompt;
      prompt.raw = "> ";
      return {i + 1, ResponseEvent{std::move(prompt)}};
    }
  }
  return {untrusted_bytes.size(), std::nullopt};
}

std::optional<ResponseEvent> ResponseStream::finish_line() {
  std::string line = std::move(buffer_);
  buffer_.clear();
  if (overflowed_) {
    overflowed_ = false;
    pending_header_.reset();
    return ResponseErrorEvent{{ErrorReason::kLineTooLong, kMaxResponseLineLength}, std::move(line)};
  }
  for (std::size_t i = 0; i < line.size(); ++i) {
    if (detail::is_control(line[i])) {
      pending_header_.reset();
      return ResponseErrorEvent{{ErrorReason::kControlCharacter, i}, std::move(line)};
    }
  }
  if (pending_header_) {
    // The line right after the header is its body, even when empty (an empty SMS).
    ResponseLine header = std::move(*pending_header_);
    pending_header_.reset();
    header.body = std::move(line);
    return header;
  }
  if (line.empty()) return std::nullopt;
  ResponseLine classified = classify_response_line(line, context_);
  if (has_body_line(classified)) {
    pending_header_ = std::move(classified);
    return std::nullopt;
  }
  return classified;
}

void ResponseStream::reset() {
  buffer_.clear();
  overflowed_ = false;
  skip_lf_ = false;
  pending_header_.reset();
}

}  // namespace twofold::modem::at
