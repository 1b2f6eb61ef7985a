#pragma once
// Streaming parser for the physical modem's output.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "twofold/modem/at/errors.h"
#include "twofold/modem/at/response.h"

namespace twofold::modem::at {

struct ResponseErrorEvent {
  ParseError error;
  std::string raw;  // at most kMaxResponseLineLength bytes
};
using ResponseEvent = std::variant<ResponseLine, ResponseErrorEvent>;

struct ResponseStep {
  std::size_t consumed = 0;
  std::optional<ResponseEvent> event;
};

class ResponseStream {
 public:
  // The context applies to lines completed from the next byte on.
  void set_context(ResponseContext context) { context_ = std::move(context); }
  const ResponseContext& context() const noexcept { return context_; }

  ResponseStep consume(std::string_view untrusted_bytes);
  template <typename Sink>
  void feed(std::string_view untrusted_bytes, Sink&& sink) {
    while (!untrusted_bytes.empty()) {
      ResponseStep step = consume(untrusted_bytes);
      untrusted_bytes.remove_prefix(step.consumed);
      if (step.event) sink(std::move(*step.event));
    }
  }

  // Drops partial input and any header waiting for its body (modem reset, timeout).
  void reset();
  bool has_partial_input() const noexcept {
    return !buffer_.empty() || overflowed_ || pending_header_.has_value();
  }

 private:
  std::optional<ResponseEvent> finish_line();

  ResponseContext context_;
  std::string buffer_;
  bool overflowed_ = false;
  bool skip_lf_ = false;  // CR seen: an LF right after it belongs to the same terminator
  std::optional<ResponseLine> pending_header_;  // waiting for its body line
};

}  // namespace twofold::modem::at
