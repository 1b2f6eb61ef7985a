#pragma once
// The error type of the audit writer. A failed append is a value the caller must look at
// ([[nodiscard]]): the audit log fails closed, so the caller decides to refuse the action
// it was about to record rather than carry on unaudited.

#include <string>
#include <utility>

namespace twofold::audit {

enum class ErrorCode {
  ok,
  invalid_event,   // kind/persona/fields do not satisfy the record rules
  io,              // write, fsync, open, rename... failed (errno in sys_errno)
  writer_failed,   // an earlier I/O error left the writer closed; no more records accepted
  corrupt_log,     // existing log could not be resumed
};

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(ErrorCode code, std::string message, int sys_errno = 0)
      : code_(code), sys_errno_(sys_errno), message_(std::move(message)) {}

  [[nodiscard]] bool ok() const { return code_ == ErrorCode::ok; }
  explicit operator bool() const { return ok(); }
  [[nodiscard]] ErrorCode code() const { return code_; }
  [[nodiscard]] int sys_errno() const { return sys_errno_; }
  [[nodiscard]] const std::string& message() const { return message_; }

 private:
  ErrorCode code_ = ErrorCode::ok;
  int sys_errno_ = 0;
  std::string message_;
};

}  // namespace twofold::audit
