#pragma once
// The audit writer: appends hash-chained records, seals them with signed checkpoints,
// rotates files by size without breaking the chain, and fails closed.
//
// Durability (measured in tests/bench/audit, see docs/audit.md):
//   SyncPolicy::every_record (default): each record is one write() followed by fdatasync()
//     before append() returns, so a record the caller was told is written survives a power
//     cut. Checkpoints, file headers and rotation use fsync() plus an fsync of the directory.
//   SyncPolicy::at_checkpoint: records are written but only synced at the next checkpoint
//     (or flush()); up to checkpoint_every_records records may be lost on power loss. Only
//     for high-rate, low-value events.
// Failure: any write/sync error (ENOSPC, EIO...) is returned, the torn bytes are cut off
// if possible, and the writer refuses every later record (ErrorCode::writer_failed): a gap
// in the chain is never papered over. Reopen a new Writer to continue after the fault.
//
// Disk (docs/audit.md, "Retention and a full disk"): each file is preallocated to
//   rotate_bytes plus room for the lines that seal it, so records never need new blocks; a
//   reserve file of the same size is kept beside the log for the next rotation; at rotation
//   the oldest files beyond keep_bytes are deleted. When the disk is full at a rotation the
//   reserve is given up, then the oldest files. Every deletion is announced first by a
//   signed "audit.retention" record naming the first file kept, which the verifier needs to
//   accept a log whose first files are gone.
//
// Not thread-safe: one owner (the manager's io_context) calls it.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "twofold/audit/format.h"
#include "twofold/audit/hash.h"
#include "twofold/audit/keys.h"
#include "twofold/audit/sink.h"
#include "twofold/audit/status.h"

namespace twofold::audit {

enum class SyncPolicy { every_record, at_checkpoint };

// Plain parameters; the policy file's [audit] table is mapped onto them by its owner.
struct WriterConfig {
  std::uint64_t checkpoint_every_records = 64;
  std::chrono::seconds checkpoint_every{60};
  std::uint64_t rotate_bytes = 8ULL * 1024 * 1024;
  SyncPolicy sync = SyncPolicy::every_record;
  // Upper bound on the log files' total size (0: no bound); the oldest files go first.
  std::uint64_t keep_bytes = 0;
  // Preallocate each file and keep the reserve (off only for stores that cannot).
  bool reserve_space = true;
  // Room past rotate_bytes a file may need: a record of the largest size (64 KiB) that
  // started just below the limit, the checkpoint that seals the file and the retention
  // records of its rotation.
  std::uint64_t rotation_slack_bytes = 256 * 1024;
};

// The file beside the log that holds the next rotation's disk space.
inline constexpr std::string_view kReserveFileName = "audit.reserve";

// UTC wall clock in ns since the epoch; injectable for tests.
using Clock = std::function<std::int64_t()>;
[[nodiscard]] std::int64_t system_clock_ns();

// Log files are named audit-<8-digit index>.log; a directory sorts them in order.
[[nodiscard]] std::string log_file_name(std::uint64_t index);
[[nodiscard]] std::optional<std::uint64_t> parse_log_file_name(std::string_view name);

class Writer {
 public:
  // Opens (or starts) the log in `store`. An existing log is resumed from its newest file:
  // an unterminated last line (a write cut by a crash, never acknowledged) is cut off and
  // an "audit.recovered" record says so. Throws std::runtime_error if the store cannot be
  // opened or its newest file cannot be parsed.
  static std::unique_ptr<Writer> open(std::unique_ptr<LogStore> store, SigningKey key,
                                      WriterConfig config, Clock clock = system_clock_ns);

  // Only open() can make one (it must resume the log before the writer is usable).
  class Token {
    friend class Writer;
    Token() = default;
  };
  Writer(Token, std::unique_ptr<LogStore> store, SigningKey key, WriterConfig config, Clock clock);
  ~Writer();
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;

  // Appends one record; on success `sequence` (if given) receives its sequence number.
  // Seals with a checkpoint when checkpoint_every_records or checkpoint_every is reached,
  // and rotates when the file exceeds rotate_bytes (after sealing it).
  Status append(const Event& event, std::uint64_t* sequence = nullptr);
  // Writes a checkpoint if any record is unsealed and the period has elapsed; the owner
  // calls this from a timer so a quiet log is still sealed every checkpoint_every.
  Status checkpoint_if_due();
  // Writes a checkpoint now if any record is unsealed.
  Status seal();

  [[nodiscard]] std::uint64_t last_sequence() const { return sequence_; }
  [[nodiscard]] std::uint64_t last_sealed_sequence() const { return sealed_sequence_; }
  [[nodiscard]] const Digest& chain() const { return chain_; }
  [[nodiscard]] bool failed() const { return failed_; }
  // How often the wall clock was seen going backwards; such records carry the previous
  // timestamp instead, so timestamps in the log never decrease.
  [[nodiscard]] std::uint64_t clock_regressions() const { return clock_regressions_; }
  // Log files deleted by retention (keep_bytes or a full disk) since open().
  [[nodiscard]] std::uint64_t files_retired() const { return files_retired_; }
  // Whether the reserve for the next rotation is in place.
  [[nodiscard]] bool reserve_held() const { return reserve_held_; }

 private:
  struct TailState;
  Status resume_or_start();
  Status tail_state(const std::string& name, TailState& state, bool& has_lines);
  Status start_file(std::uint64_t index);
  Status try_start_file(std::uint64_t index);
  Status rotate();
  Status retire_oldest(std::uint64_t count, std::string_view reason);
  Status log_files(std::vector<std::uint64_t>& indices);
  bool make_room_for_rotation();
  void ensure_reserve();
  [[nodiscard]] std::uint64_t file_room() const { return config_.rotate_bytes + config_.rotation_slack_bytes; }
  Status write_line(const std::string& line, bool sync_all);
  Status write_checkpoint();
  Status append_record(const Event& event, std::uint64_t* sequence);
  Status fail(Status status);
  std::int64_t now();

  std::unique_ptr<LogStore> store_;
  SigningKey key_;
  WriterConfig config_;
  Clock clock_;
  std::unique_ptr<LogFile> file_;
  std::uint64_t file_index_ = 0;
  std::uint64_t sequence_ = 0;
  std::uint64_t sealed_sequence_ = 0;
  Digest chain_{};
  std::int64_t last_timestamp_ns_ = 0;
  std::int64_t last_checkpoint_ns_ = 0;
  std::uint64_t clock_regressions_ = 0;
  std::uint64_t files_retired_ = 0;
  bool reserve_held_ = false;
  bool failed_ = false;
};

}  // namespace twofold::audit
