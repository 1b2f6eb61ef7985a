#include "twofold/audit/verifier.h"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <stdexcept>

#include "twofold/audit/writer.h"

namespace twofold::audit {
namespace {

std::span<const std::uint8_t> as_bytes(std::string_view text) {
  return {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()};
}

std::string seq_text(std::uint64_t sequence) { return std::to_string(sequence); }

// Read granularity for log files; lines are reassembled across chunks.
constexpr std::size_t kReadChunkBytes = 64 * 1024;

}  // namespace

std::string_view to_string(Problem problem) {
  switch (problem) {
    case Problem::malformed_line: return "malformed_line";
    case Problem::missing_header: return "missing_header";
    case Problem::unexpected_header: return "unexpected_header";
    case Problem::missing_genesis: return "missing_genesis";
    case Problem::rotation_broken: return "rotation_broken";
    case Problem::sequence_mismatch: return "sequence_mismatch";
    case Problem::timestamp_backwards: return "timestamp_backwards";
    case Problem::chain_mismatch: return "chain_mismatch";
    case Problem::checkpoint_mismatch: return "checkpoint_mismatch";
    case Problem::unknown_key: return "unknown_key";
    case Problem::bad_signature: return "bad_signature";
    case Problem::torn_line: return "torn_line";
    case Problem::truncated: return "truncated";
    case Problem::unsealed_records: return "unsealed_records";
    case Problem::empty_log: return "empty_log";
    case Problem::io_error: return "io_error";
  }
  return "unknown";
}

ChainVerifier::ChainVerifier(const VerifyOptions& options) : options_(options) {
  chain_ = genesis_chain();
  report_.last_chain = chain_;
  if (options_.public_key) {
    report_.signatures_checked = true;
    report_.key_id = options_.public_key->key_id();
  }
}

void ChainVerifier::fail(Problem problem, std::string detail, std::optional<std::uint64_t> sequence) {
  if (failed()) return;
  report_.first_bad = Finding{problem, Location{file_, line_no_, sequence}, std::move(detail)};
}

void ChainVerifier::begin_file(std::string name) {
  if (failed()) return;
  if (torn_) {
    // Only the very end of the log may be torn (a crash mid-write); inside it, a cut line
    // means bytes were removed.
    report_.first_bad = Finding{Problem::torn_line, *torn_,
                                report_.empty_last_file
                                    ? "empty file followed by another file"
                                    : "unterminated line in a file that is followed by another file"};
    return;
  }
  file_ = std::move(name);
  pending_.clear();
  line_no_ = 0;
  saw_header_ = false;
  ++report_.files;
}

void ChainVerifier::feed(std::string_view untrusted_bytes) {
  while (!untrusted_bytes.empty() && !failed()) {
    const std::size_t newline = untrusted_bytes.find('\n');
    if (newline == std::string_view::npos) {
      if (pending_.size() + untrusted_bytes.size() > kMaxLineBytes) {
        ++line_no_;
        fail(Problem::malformed_line, "line longer than 64 KiB", sequence_ + 1);
        return;
      }
      pending_.append(untrusted_bytes);
      return;
    }
    if (pending_.empty()) {
      line(untrusted_bytes.substr(0, newline));
    } else {
      pending_.append(untrusted_bytes.substr(0, std::min(newline, kMaxLineBytes + 1)));
      line(pending_);
      pending_.clear();
    }
    untrusted_bytes.remove_prefix(newline + 1);
  }
}

void ChainVerifier::end_file() {
  if (failed()) return;
  if (!pending_.empty()) {
    torn_ = Location{file_, line_no_ + 1, sequence_ + 1};
    report_.torn_tail_bytes = pending_.size();
    pending_.clear();
    return;
  }
  if (line_no_ == 0) {
    // An empty file is what a crash between creating a file and writing its header leaves;
    // like a torn line it is only acceptable as the very last file.
    torn_ = Location{file_, 1, sequence_ + 1};
    report_.empty_last_file = true;
  }
}

void ChainVerifier::io_error(std::string name, std::string detail) {
  if (failed()) return;
  report_.first_bad = Finding{Problem::io_error, Location{std::move(name), 0, std::nullopt}, std::move(detail)};
}

void ChainVerifier::line(std::string_view untrusted_line) {
  ++line_no_;
  auto parsed = parse_line(untrusted_line);
  if (const auto* error = std::get_if<ParseError>(&parsed)) {
    fail(Problem::malformed_line, error->reason, sequence_ + 1);
    return;
  }
  const Line& parsed_line = std::get<Line>(parsed);
  if (const auto* header = std::get_if<HeaderLine>(&parsed_line)) {
    if (saw_header_) {
      fail(Problem::unexpected_header, "header line in the middle of a file", sequence_ + 1);
      return;
    }
    on_header(*header);
    return;
  }
  if (!saw_header_) {
    fail(Problem::missing_header, "file does not start with a header line (first lines removed?)",
         sequence_ + 1);
    return;
  }
  if (const auto* record = std::get_if<RecordLine>(&parsed_line)) {
    on_record(*record);
  } else if (const auto* checkpoint = std::get_if<CheckpointLine>(&parsed_line)) {
    on_checkpoint(*checkpoint);
  }
}

bool ChainVerifier::time_ok(std::int64_t timestamp_ns, std::optional<std::uint64_t> sequence) {
  if (timestamp_ns < last_timestamp_ns_) {
    fail(Problem::timestamp_backwards,
         "timestamp " + std::to_string(timestamp_ns) + " is before the previous line's " +
             std::to_string(last_timestamp_ns_),
         sequence);
    return false;
  }
  last_timestamp_ns_ = timestamp_ns;
  return true;
}

void ChainVerifier::on_header(const HeaderLine& header) {
  saw_header_ = true;
  if (!started_) {
    const bool genesis = header.file_index == 0;
    if (genesis && (header.prev_sequence != 0 || header.prev_chain != genesis_chain())) {
      fail(Problem::rotation_broken, "file 0 must start at sequence 0 with the genesis chain value", 1);
      return;
    }
    if (!genesis && !options_.allow_missing_head) {
      missing_head_ = Head{Location{file_, line_no_, header.prev_sequence + 1}, header.file_index,
                           header.prev_sequence};
    }
    started_ = true;
    sequence_ = header.prev_sequence;
    chain_ = header.prev_chain;
    report_.first_sequence = report_.last_sequence = report_.last_sealed_sequence = sequence_;
    report_.last_chain = chain_;
    previous_file_index_ = header.file_index;
    last_timestamp_ns_ = header.timestamp_ns;
    return;
  }
  if (header.file_index != *previous_file_index_ + 1) {
    fail(Problem::rotation_broken,
         "file index " + std::to_string(header.file_index) + " does not follow " +
             std::to_string(*previous_file_index_) + " (file missing or out of order)",
         sequence_ + 1);
    return;
  }
  if (header.prev_sequence > sequence_) {
    fail(Problem::truncated,
         "previous file ends at sequence " + seq_text(sequence_) + " but this header continues from " +
             seq_text(header.prev_sequence) + ": records " + seq_text(sequence_ + 1) + ".." +
             seq_text(header.prev_sequence) + " were cut from the previous file",
         sequence_ + 1);
    return;
  }
  if (header.prev_sequence != sequence_ || header.prev_chain != chain_) {
    fail(Problem::rotation_broken,
         "header (prev_seq " + seq_text(header.prev_sequence) +
             ") does not continue the previous file's chain at sequence " + seq_text(sequence_),
         sequence_ + 1);
    return;
  }
  if (report_.last_sealed_sequence != sequence_) {
    // The writer always seals a file before rotating: its final checkpoint was removed.
    fail(Problem::truncated,
         "previous file was not sealed before rotation (its final checkpoint is missing)", sequence_);
    return;
  }
  if (!time_ok(header.timestamp_ns, sequence_ + 1)) return;
  previous_file_index_ = header.file_index;
}

void ChainVerifier::on_record(const RecordLine& record) {
  const std::uint64_t expected = sequence_ + 1;
  const std::uint64_t found = record.record.sequence;
  if (found != expected) {
    std::string detail = "expected sequence " + seq_text(expected) + ", found " + seq_text(found);
    detail += found > expected ? " (record " + seq_text(expected) + " deleted or records reordered)"
                               : " (record inserted, duplicated or reordered)";
    fail(Problem::sequence_mismatch, std::move(detail), expected);
    return;
  }
  if (!time_ok(record.record.timestamp_ns, expected)) return;
  const Digest computed = chain_hash(chain_, leaf_hash(record.canonical));
  if (computed != record.chain) {
    fail(Problem::chain_mismatch,
         "record does not hash to its chain value (content edited, or record moved or forged)",
         expected);
    return;
  }
  if (report_.last_sealed_sequence == sequence_) first_unsealed_ = Location{file_, line_no_, expected};
  if (record.record.kind == "audit.retention") {
    const auto kept = record.record.fields.find("first_kept_file");
    if (kept != record.record.fields.end() && kept->is_number_unsigned()) {
      retention_read_ = std::max(retention_read_.value_or(0), kept->get<std::uint64_t>());
    }
  }
  sequence_ = expected;
  chain_ = computed;
  ++report_.records;
  report_.last_sequence = sequence_;
  report_.last_chain = chain_;
}

void ChainVerifier::on_checkpoint(const CheckpointLine& checkpoint) {
  if (checkpoint.sequence != sequence_) {
    fail(Problem::checkpoint_mismatch,
         "checkpoint seals sequence " + seq_text(checkpoint.sequence) + " but the chain is at " +
             seq_text(sequence_) + " (records deleted or inserted before it)",
         checkpoint.sequence);
    return;
  }
  if (!time_ok(checkpoint.timestamp_ns, checkpoint.sequence)) return;
  if (options_.public_key) {
    if (checkpoint.key_id != options_.public_key->key_id()) {
      fail(Problem::unknown_key,
           "checkpoint signed by key " + checkpoint.key_id + ", not the pinned key " +
               options_.public_key->key_id() + " (re-sealed with another key?)",
           checkpoint.sequence);
      return;
    }
    const std::string message = checkpoint_message(checkpoint.sequence, checkpoint.chain,
                                                    checkpoint.timestamp_ns, checkpoint.key_id);
    if (!options_.public_key->verify(as_bytes(message), checkpoint.signature)) {
      fail(Problem::bad_signature, "checkpoint signature does not verify with the pinned key",
           checkpoint.sequence);
      return;
    }
  }
  // After the signature: a valid signature over a different chain value means the records
  // since the previous checkpoint were rewritten (chain values recomputed by the attacker).
  if (checkpoint.chain != chain_) {
    fail(Problem::checkpoint_mismatch,
         "signed chain value differs from the records' chain: records up to sequence " +
             seq_text(checkpoint.sequence) + " were rewritten",
         checkpoint.sequence);
    return;
  }
  ++report_.checkpoints;
  report_.last_sealed_sequence = checkpoint.sequence;
  if (retention_read_) retention_sealed_ = retention_read_;
}

// A log that starts after file 0 is intact only if a sealed audit.retention record says
// the writer deleted the files before it (or the caller allows a missing head): deleting
// more files than retention did, or forging the record without the key, is missing_genesis.
// The head comes first in the log, so this finding outranks any later one.
void ChainVerifier::check_head() {
  if (!missing_head_) return;
  if (retention_sealed_ && *retention_sealed_ >= missing_head_->file_index) {
    report_.retired_before_file = missing_head_->file_index;
    return;
  }
  std::string detail = "log starts at file " + std::to_string(missing_head_->file_index) + " (after sequence " +
                       seq_text(missing_head_->prev_sequence) + "): earlier files are missing";
  detail += retention_sealed_ ? " and the last sealed audit.retention record kept files from " +
                                    std::to_string(*retention_sealed_) + " on (files deleted beyond retention)"
                              : " and no sealed audit.retention record says they were retired "
                                "(use --allow-missing-head if they were retired by hand)";
  report_.first_bad = Finding{Problem::missing_genesis, missing_head_->where, std::move(detail)};
}

VerifyReport ChainVerifier::finish() {
  check_head();
  if (failed()) return report_;
  if (!started_) {
    fail(Problem::empty_log, report_.files == 0 ? "no log files" : "no lines in the log", std::nullopt);
    return report_;
  }
  report_.unsealed_records = sequence_ - report_.last_sealed_sequence;
  if (options_.expect_sequence && sequence_ < *options_.expect_sequence) {
    line_no_ += 1;
    fail(Problem::truncated,
         "log ends at sequence " + seq_text(sequence_) + " but at least " +
             seq_text(*options_.expect_sequence) + " records were written",
         sequence_ + 1);
    return report_;
  }
  if (options_.require_sealed && report_.unsealed_records > 0 && first_unsealed_) {
    report_.first_bad = Finding{Problem::unsealed_records, *first_unsealed_,
                                std::to_string(report_.unsealed_records) +
                                    " record(s) after the last checkpoint are not sealed"};
  }
  return report_;
}

std::vector<std::filesystem::path> expand_log_paths(const std::vector<std::filesystem::path>& paths) {
  std::vector<std::filesystem::path> files;
  for (const auto& path : paths) {
    std::error_code error;
    if (std::filesystem::is_directory(path, error)) {
      std::vector<std::pair<std::uint64_t, std::filesystem::path>> found;
      for (const auto& entry : std::filesystem::directory_iterator(path, error)) {
        if (const auto index = parse_log_file_name(entry.path().filename().string())) {
          found.emplace_back(*index, entry.path());
        }
      }
      if (error) throw std::runtime_error("cannot list " + path.string() + ": " + error.message());
      std::sort(found.begin(), found.end());
      for (auto& [index, file] : found) files.push_back(std::move(file));
    } else if (std::filesystem::exists(path, error)) {
      files.push_back(path);
    } else {
      throw std::runtime_error("no such file or directory: " + path.string());
    }
  }
  return files;
}

VerifyReport verify(const std::vector<std::filesystem::path>& paths, const VerifyOptions& options) {
  ChainVerifier verifier(options);
  std::vector<std::filesystem::path> files;
  try {
    files = expand_log_paths(paths);
  } catch (const std::exception& error) {
    verifier.io_error(paths.empty() ? std::string() : paths.front().string(), error.what());
    return verifier.finish();
  }
  std::array<char, kReadChunkBytes> buffer{};
  for (const auto& file : files) {
    std::ifstream in(file, std::ios::binary);
    if (!in) {
      verifier.io_error(file.string(), std::string("cannot open: ") + std::strerror(errno));
      break;
    }
    verifier.begin_file(file.string());
    while (!verifier.failed() && in) {
      in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
      verifier.feed(std::string_view(buffer.data(), static_cast<std::size_t>(in.gcount())));
    }
    if (in.bad()) {
      verifier.io_error(file.string(), "read error");
      break;
    }
    verifier.end_file();
    if (verifier.failed()) break;
  }
  return verifier.finish();
}

VerifyReport verify_buffers(const std::vector<std::pair<std::string, std::string>>& files,
                            const VerifyOptions& options) {
  ChainVerifier verifier(options);
  for (const auto& [name, content] : files) {
    verifier.begin_file(name);
    verifier.feed(content);
    verifier.end_file();
    if (verifier.failed()) break;
  }
  return verifier.finish();
}

}  // namespace twofold::audit
