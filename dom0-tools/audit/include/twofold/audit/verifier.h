#pragma once
// Verifies a log (one or more files in order) and names the FIRST bad line and why.
// ChainVerifier is the pure state machine (fed lines; used by the fuzz target);
// verify() reads files or a directory and drives it.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "twofold/audit/format.h"
#include "twofold/audit/hash.h"
#include "twofold/audit/keys.h"

namespace twofold::audit {

enum class Problem {
  malformed_line,        // not a valid, canonical log line
  missing_header,        // a file does not start with a header line
  unexpected_header,     // a header line in the middle of a file
  missing_genesis,       // first file does not start the log (earlier files missing)
  rotation_broken,       // header does not continue the previous file's chain
  sequence_mismatch,     // deleted, inserted or reordered record
  timestamp_backwards,   // a record or checkpoint older than the line before it
  chain_mismatch,        // record content does not hash to its stored chain value
  checkpoint_mismatch,   // checkpoint does not match the chain it claims to seal
  unknown_key,           // checkpoint signed by a key other than the pinned one
  bad_signature,         // checkpoint signature does not verify with the pinned key
  torn_line,             // unterminated line inside the log (not at its very end)
  truncated,             // fewer records than --expect-sequence
  unsealed_records,      // records after the last checkpoint (only with require_sealed)
  empty_log,             // no files or no lines at all
  io_error,              // a file could not be read
};
[[nodiscard]] std::string_view to_string(Problem problem);

struct Location {
  std::string file;
  std::uint64_t line = 0;                 // 1-based; 0 = the file as a whole
  std::optional<std::uint64_t> sequence;  // the record sequence at or expected at that line
};

struct Finding {
  Problem problem;
  Location where;
  std::string detail;
};

struct VerifyOptions {
  // Pinned public key; without it checkpoints are checked for consistency with the chain
  // but not authenticated (report.signatures_checked == false).
  std::optional<VerifyKey> public_key;
  // "I know at least N records were written": fewer is reported as truncation.
  std::optional<std::uint64_t> expect_sequence;
  // Accept a first file that continues an earlier, removed file even without a signed
  // audit.retention record saying so (files retired by hand). Its header is then the trust
  // anchor, which the next signed checkpoint still authenticates.
  bool allow_missing_head = false;
  // Treat records after the last checkpoint as a failure instead of a note.
  bool require_sealed = false;
};

struct VerifyReport {
  std::optional<Finding> first_bad;  // empty = intact
  std::uint64_t files = 0;
  std::uint64_t records = 0;
  std::uint64_t checkpoints = 0;
  std::uint64_t first_sequence = 0;        // sequence the verified range starts after
  std::uint64_t last_sequence = 0;
  std::uint64_t last_sealed_sequence = 0;
  std::uint64_t unsealed_records = 0;      // records after the last checkpoint
  std::uint64_t torn_tail_bytes = 0;       // unterminated bytes at the very end (crash)
  bool empty_last_file = false;            // last file has no bytes (crash during rotation)
  // The log's first files were deleted by the writer's retention: a sealed audit.retention
  // record names the first file kept, and the log starts at or before it.
  std::optional<std::uint64_t> retired_before_file;
  bool signatures_checked = false;
  std::string key_id;                      // pinned key's id, if any
  Digest last_chain{};

  [[nodiscard]] bool intact() const { return !first_bad.has_value(); }
};

class ChainVerifier {
 public:
  // `options` must outlive the verifier.
  explicit ChainVerifier(const VerifyOptions& options);

  void begin_file(std::string name);
  // Any slice of the file's bytes, in order; lines are split here.
  void feed(std::string_view untrusted_bytes);
  void end_file();
  // Marks an I/O error on the named file.
  void io_error(std::string name, std::string detail);
  [[nodiscard]] VerifyReport finish();
  // True once the first bad line is found; later input is ignored.
  [[nodiscard]] bool failed() const { return report_.first_bad.has_value(); }

 private:
  void line(std::string_view untrusted_line);
  void fail(Problem problem, std::string detail, std::optional<std::uint64_t> sequence);
  void on_header(const HeaderLine& header);
  void on_record(const RecordLine& record);
  void on_checkpoint(const CheckpointLine& checkpoint);
  void check_head();
  bool time_ok(std::int64_t timestamp_ns, std::optional<std::uint64_t> sequence);

  const VerifyOptions& options_;
  VerifyReport report_;
  std::string file_;
  std::string pending_;            // bytes of the current line not yet terminated
  std::uint64_t line_no_ = 0;
  bool saw_header_ = false;        // in the current file
  bool started_ = false;           // a first header anchored the chain
  std::optional<std::uint64_t> previous_file_index_;
  std::optional<Location> torn_;   // unterminated tail of the previous file
  std::optional<Location> first_unsealed_;
  // The first file's header when it continues earlier, deleted files; judged at the end,
  // once the retention records that may explain it have been read.
  struct Head {
    Location where;
    std::uint64_t file_index = 0;
    std::uint64_t prev_sequence = 0;
  };
  std::optional<Head> missing_head_;
  std::optional<std::uint64_t> retention_read_;    // largest first_kept_file seen
  std::optional<std::uint64_t> retention_sealed_;  // ... and covered by a checkpoint
  std::uint64_t sequence_ = 0;
  Digest chain_{};
  std::int64_t last_timestamp_ns_ = 0;
};

// Verifies in-memory files (name, bytes) in order.
[[nodiscard]] VerifyReport verify_buffers(
    const std::vector<std::pair<std::string, std::string>>& files, const VerifyOptions& options);

// Reads one file or directory (all audit-*.log in it, in name order) per path, in order.
[[nodiscard]] VerifyReport verify(const std::vector<std::filesystem::path>& paths,
                                  const VerifyOptions& options);
// Expands paths into the ordered list of files verify() reads; throws std::runtime_error
// on a missing path.
[[nodiscard]] std::vector<std::filesystem::path> expand_log_paths(
    const std::vector<std::filesystem::path>& paths);

}  // namespace twofold::audit
