#include "twofold/audit/writer.h"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <stdexcept>

namespace twofold::audit {
namespace {

constexpr std::string_view kFilePrefix = "audit-";
constexpr std::string_view kFileSuffix = ".log";
constexpr std::size_t kIndexDigits = 8;

std::span<const std::uint8_t> as_bytes(std::string_view text) {
  return {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()};
}

bool disk_full(const Status& status) {
  return status.code() == ErrorCode::io && (status.sys_errno() == ENOSPC || status.sys_errno() == EDQUOT);
}

Status writer_failed() {
  return Status(ErrorCode::writer_failed,
                "audit writer stopped after an earlier write error; no record accepted");
}

}  // namespace

std::int64_t system_clock_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string log_file_name(std::uint64_t index) {
  std::string digits = std::to_string(index);
  if (digits.size() < kIndexDigits) digits.insert(0, kIndexDigits - digits.size(), '0');
  return std::string(kFilePrefix) + digits + std::string(kFileSuffix);
}

std::optional<std::uint64_t> parse_log_file_name(std::string_view name) {
  if (!name.starts_with(kFilePrefix) || !name.ends_with(kFileSuffix)) return std::nullopt;
  const std::string_view digits =
      name.substr(kFilePrefix.size(), name.size() - kFilePrefix.size() - kFileSuffix.size());
  if (digits.size() < kIndexDigits) return std::nullopt;
  std::uint64_t index = 0;
  const auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), index);
  if (error != std::errc() || end != digits.data() + digits.size()) return std::nullopt;
  if (log_file_name(index) != name) return std::nullopt;  // one spelling per index
  return index;
}

// What the newest file's lines say about where the chain stands.
struct Writer::TailState {
  std::uint64_t sequence = 0;
  std::uint64_t sealed_sequence = 0;
  Digest chain{};
  std::int64_t timestamp_ns = 0;
  std::int64_t checkpoint_ns = 0;
  std::uint64_t complete_bytes = 0;  // up to and including the last '\n'
  std::uint64_t torn_bytes = 0;
};

Writer::Writer(Token, std::unique_ptr<LogStore> store, SigningKey key, WriterConfig config, Clock clock)
    : store_(std::move(store)), key_(std::move(key)), config_(config), clock_(std::move(clock)) {}

Writer::~Writer() = default;

std::unique_ptr<Writer> Writer::open(std::unique_ptr<LogStore> store, SigningKey key,
                                     WriterConfig config, Clock clock) {
  if (config.checkpoint_every_records == 0) throw std::invalid_argument("checkpoint_every_records must be > 0");
  if (config.checkpoint_every.count() <= 0) throw std::invalid_argument("checkpoint_every must be > 0");
  auto writer = std::make_unique<Writer>(Token{}, std::move(store), std::move(key), config, std::move(clock));
  const Status status = writer->resume_or_start();
  if (!status.ok()) throw std::runtime_error("audit log: " + status.message());
  return writer;
}

std::int64_t Writer::now() {
  std::int64_t ts = std::max<std::int64_t>(clock_(), 0);
  if (ts < last_timestamp_ns_) {
    ++clock_regressions_;
    ts = last_timestamp_ns_;
  }
  return ts;
}

Status Writer::tail_state(const std::string& name, TailState& state, bool& has_lines) {
  std::string content;
  if (Status status = store_->read(name, content); !status.ok()) return status;
  const std::size_t last_newline = content.rfind('\n');
  state.complete_bytes = last_newline == std::string::npos ? 0 : last_newline + 1;
  state.torn_bytes = content.size() - state.complete_bytes;
  has_lines = false;
  std::string_view rest(content.data(), state.complete_bytes);
  std::uint64_t line_no = 0;
  while (!rest.empty()) {
    const std::size_t end = rest.find('\n');
    const std::string_view text = rest.substr(0, end);
    rest.remove_prefix(end + 1);
    ++line_no;
    auto parsed = parse_line(text);
    if (const auto* error = std::get_if<ParseError>(&parsed)) {
      return Status(ErrorCode::corrupt_log, name + " line " + std::to_string(line_no) + ": " +
                                                error->reason + " (run `twofold audit verify`)");
    }
    has_lines = true;
    const Line& line = std::get<Line>(parsed);
    if (const auto* header = std::get_if<HeaderLine>(&line)) {
      state.sequence = state.sealed_sequence = header->prev_sequence;
      state.chain = header->prev_chain;
      state.timestamp_ns = std::max(state.timestamp_ns, header->timestamp_ns);
    } else if (const auto* record = std::get_if<RecordLine>(&line)) {
      state.sequence = record->record.sequence;
      state.chain = record->chain;
      state.timestamp_ns = std::max(state.timestamp_ns, record->record.timestamp_ns);
    } else if (const auto* checkpoint = std::get_if<CheckpointLine>(&line)) {
      state.sealed_sequence = checkpoint->sequence;
      state.timestamp_ns = std::max(state.timestamp_ns, checkpoint->timestamp_ns);
      state.checkpoint_ns = checkpoint->timestamp_ns;
    }
  }
  return {};
}

Status Writer::resume_or_start() {
  std::vector<std::string> names;
  if (Status status = store_->list(names); !status.ok()) return status;
  std::optional<std::uint64_t> newest;
  for (const std::string& name : names) {
    if (const auto index = parse_log_file_name(name)) newest = std::max(newest.value_or(0), *index);
  }
  chain_ = genesis_chain();
  if (!newest) {
    last_checkpoint_ns_ = now();
    if (Status status = start_file(0); !status.ok()) return status;
    ensure_reserve();
    return {};
  }

  TailState state;
  bool has_lines = false;
  if (Status status = tail_state(log_file_name(*newest), state, has_lines); !status.ok()) return status;
  file_index_ = *newest;
  if (Status status = store_->open_append(log_file_name(*newest), file_); !status.ok()) return status;
  if (config_.reserve_space) {
    // Best effort: a log resumed on a full disk still works until it needs new blocks.
    (void)file_->preallocate(file_room());
    ensure_reserve();
  }
  const std::uint64_t discarded = state.torn_bytes;
  if (discarded > 0) {
    // The unterminated tail is a write cut by a crash: its append() never returned success,
    // so no caller relied on it. Cut it off so the file stays well-formed.
    if (Status status = file_->truncate(state.complete_bytes); !status.ok()) return status;
    if (Status status = file_->sync_all(); !status.ok()) return status;
  }

  if (!has_lines) {
    // The crash hit the header itself: rebuild it from the previous file's tail.
    TailState previous;
    bool previous_has_lines = false;
    if (*newest > 0) {
      if (Status status = tail_state(log_file_name(*newest - 1), previous, previous_has_lines); !status.ok()) {
        return status;
      }
      if (!previous_has_lines) {
        return Status(ErrorCode::corrupt_log, log_file_name(*newest - 1) + " has no complete line");
      }
    } else {
      previous.chain = genesis_chain();
    }
    sequence_ = sealed_sequence_ = previous.sequence;
    chain_ = previous.chain;
    last_timestamp_ns_ = previous.timestamp_ns;
    last_checkpoint_ns_ = now();
    const HeaderLine header{kFormatVersion, file_index_, sequence_, chain_, now()};
    if (Status status = write_line(format_header(header), true); !status.ok()) return status;
  } else {
    sequence_ = state.sequence;
    sealed_sequence_ = state.sealed_sequence;
    chain_ = state.chain;
    last_timestamp_ns_ = state.timestamp_ns;
    last_checkpoint_ns_ = state.checkpoint_ns != 0 ? state.checkpoint_ns : now();
  }

  if (discarded > 0) {
    Event event{"audit.recovered", std::nullopt,
                {{"discarded_bytes", discarded}, {"file", log_file_name(file_index_)}}};
    return append_record(event, nullptr);
  }
  return {};
}

Status Writer::start_file(std::uint64_t index) {
  // Each pass that fails on a full disk frees something (the reserve, then the oldest
  // file), so the loop ends.
  for (;;) {
    Status status = try_start_file(index);
    if (status.ok() || failed_) return status;
    if (!disk_full(status) || !make_room_for_rotation()) return fail(status);
  }
}

// Creates, preallocates and heads the next file; on any error removes what it made and
// leaves the writer as it was, so the caller can free space and try again.
Status Writer::try_start_file(std::uint64_t index) {
  const std::string name = log_file_name(index);
  std::unique_ptr<LogFile> file;
  if (Status status = store_->create(name, file); !status.ok()) return status;
  const HeaderLine header{kFormatVersion, index, sequence_, chain_, now()};
  std::string bytes = format_header(header);
  bytes.push_back('\n');
  Status status;
  if (config_.reserve_space) status = file->preallocate(file_room());
  if (status.ok()) status = file->append(bytes);
  if (status.ok()) status = file->sync_all();
  // A new name only survives a power cut once its directory is synced.
  if (status.ok()) status = store_->sync_directory();
  if (!status.ok()) {
    file.reset();
    (void)store_->remove(name);
    return status;
  }
  // The sealed previous file gives back the room it did not use.
  if (file_) (void)file_->truncate(file_->size());
  file_ = std::move(file);
  file_index_ = index;
  last_timestamp_ns_ = header.timestamp_ns;
  return {};
}

bool Writer::make_room_for_rotation() {
  if (reserve_held_) {
    reserve_held_ = false;
    return store_->remove(std::string(kReserveFileName)).ok();
  }
  if (!file_) return false;
  const std::uint64_t before = files_retired_;
  const Status status = retire_oldest(1, "disk-full");
  return status.ok() && files_retired_ > before;
}

void Writer::ensure_reserve() {
  if (!config_.reserve_space || reserve_held_) return;
  const std::string name(kReserveFileName);
  (void)store_->remove(name);  // a partial one left by a crash
  std::unique_ptr<LogFile> file;
  Status status = store_->create(name, file);
  if (status.ok()) status = file->preallocate(file_room());
  if (status.ok()) status = store_->sync_directory();
  file.reset();
  if (status.ok()) {
    reserve_held_ = true;
  } else {
    // Without a reserve the next rotation on a full disk retires the oldest file instead;
    // old history is never deleted before space is actually needed.
    (void)store_->remove(name);
  }
}

Status Writer::log_files(std::vector<std::uint64_t>& indices) {
  std::vector<std::string> names;
  if (Status status = store_->list(names); !status.ok()) return status;
  indices.clear();
  for (const std::string& name : names) {
    if (const auto index = parse_log_file_name(name)) indices.push_back(*index);
  }
  std::sort(indices.begin(), indices.end());
  return {};
}

// Announces, seals and then deletes the `count` oldest files before the current one. The
// signed audit.retention record is what lets the verifier accept the shortened log.
Status Writer::retire_oldest(std::uint64_t count, std::string_view reason) {
  std::vector<std::uint64_t> indices;
  if (Status status = log_files(indices); !status.ok()) return status;
  std::erase_if(indices, [this](std::uint64_t index) { return index >= file_index_; });
  count = std::min<std::uint64_t>(count, indices.size());
  if (count == 0) return {};
  const std::uint64_t first_kept = count < indices.size() ? indices[count] : file_index_;
  const Event event{"audit.retention", std::nullopt,
                    {{"reason", std::string(reason)},
                     {"deleted_files", count},
                     {"first_deleted_file", indices.front()},
                     {"first_kept_file", first_kept}}};
  if (Status status = append_record(event, nullptr); !status.ok()) return status;
  if (Status status = write_checkpoint(); !status.ok()) return status;
  for (std::uint64_t i = 0; i < count; ++i) {
    if (Status status = store_->remove(log_file_name(indices[i])); !status.ok()) return status;
    ++files_retired_;
  }
  return store_->sync_directory();
}

// Seals the full file, keeps the log within keep_bytes, then continues the chain in the
// next file.
Status Writer::rotate() {
  if (sealed_sequence_ != sequence_) {
    if (Status status = write_checkpoint(); !status.ok()) return status;
  }
  if (config_.keep_bytes > 0) {
    std::vector<std::uint64_t> indices;
    if (Status status = log_files(indices); !status.ok()) return fail(status);
    std::uint64_t total = 0;
    std::vector<std::uint64_t> sizes;
    for (const std::uint64_t index : indices) {
      std::uint64_t size = 0;
      if (index == file_index_) {
        size = file_->size();
      } else if (Status status = store_->file_size(log_file_name(index), size); !status.ok()) {
        return fail(status);
      }
      sizes.push_back(size);
      total += size;
    }
    std::uint64_t retire = 0;
    while (retire < indices.size() && indices[retire] < file_index_ && total + file_room() > config_.keep_bytes) {
      total -= sizes[retire];
      ++retire;
    }
    if (Status status = retire_oldest(retire, "size-limit"); !status.ok() && failed_) return status;
  }
  if (Status status = start_file(file_index_ + 1); !status.ok()) return status;
  ensure_reserve();
  return {};
}

Status Writer::write_line(const std::string& line, bool sync_all) {
  const std::uint64_t size_before = file_->size();
  std::string bytes = line;
  bytes.push_back('\n');
  if (Status status = file_->append(bytes); !status.ok()) {
    // Best effort: remove a torn line so the file stays parseable; the writer stops either
    // way, because whether the bytes reached the disk is now unknown.
    (void)file_->truncate(size_before);
    return fail(status);
  }
  if (sync_all) {
    if (Status status = file_->sync_all(); !status.ok()) return fail(status);
  } else if (config_.sync == SyncPolicy::every_record) {
    if (Status status = file_->sync_data(); !status.ok()) return fail(status);
  }
  return {};
}

Status Writer::write_checkpoint() {
  CheckpointLine checkpoint;
  checkpoint.sequence = sequence_;
  checkpoint.chain = chain_;
  checkpoint.timestamp_ns = now();
  checkpoint.key_id = key_.key_id();
  checkpoint.signature = key_.sign(as_bytes(checkpoint_message(
      checkpoint.sequence, checkpoint.chain, checkpoint.timestamp_ns, checkpoint.key_id)));
  // fsync, not fdatasync: a checkpoint is what makes everything before it durable and
  // authenticated, so it also flushes records written under SyncPolicy::at_checkpoint.
  if (Status status = write_line(format_checkpoint(checkpoint), true); !status.ok()) return status;
  sealed_sequence_ = sequence_;
  last_timestamp_ns_ = checkpoint.timestamp_ns;
  last_checkpoint_ns_ = checkpoint.timestamp_ns;
  return {};
}

Status Writer::fail(Status status) {
  failed_ = true;
  return status;
}

Status Writer::append(const Event& event, std::uint64_t* sequence) {
  if (failed_) return writer_failed();
  if (file_->size() >= config_.rotate_bytes) {
    if (Status status = rotate(); !status.ok()) return status;
  }
  if (Status status = append_record(event, sequence); !status.ok()) return status;
  return checkpoint_if_due();
}

Status Writer::append_record(const Event& event, std::uint64_t* sequence) {
  if (!valid_kind(event.kind)) {
    return Status(ErrorCode::invalid_event, "kind must match [a-z][a-z0-9._-]{0,63}: '" + event.kind + "'");
  }
  if (event.persona && !valid_persona(*event.persona)) {
    return Status(ErrorCode::invalid_event, "persona must match [a-z0-9_-]{1,32}");
  }
  if (!event.fields.is_object()) return Status(ErrorCode::invalid_event, "fields must be a JSON object");

  Record record{sequence_ + 1, now(), event.kind, event.persona, event.fields};
  std::string line;
  std::string canonical;
  try {
    canonical = canonical_record_bytes(record);
    line = format_record(record, Digest{});
  } catch (const nlohmann::json::exception& error) {
    return Status(ErrorCode::invalid_event, std::string("fields are not valid UTF-8 JSON: ") + error.what());
  }
  const Digest chain = chain_hash(chain_, leaf_hash(canonical));
  line = format_record(record, chain);
  // The verifier will re-parse this line; refuse anything it would not accept (too long,
  // too deep, NaN that would come back as null) instead of writing an unverifiable record.
  const auto reparsed = parse_line(line);
  const auto* round_trip = std::get_if<Line>(&reparsed);
  const auto* as_record = round_trip ? std::get_if<RecordLine>(round_trip) : nullptr;
  if (as_record == nullptr || as_record->record.fields != event.fields) {
    return Status(ErrorCode::invalid_event,
                  "record would not round-trip (over 64 KiB, nested deeper than 16, or NaN/inf "
                  "that JSON would turn into null)");
  }
  if (Status status = write_line(line, false); !status.ok()) return status;
  sequence_ = record.sequence;
  chain_ = chain;
  last_timestamp_ns_ = record.timestamp_ns;
  if (sequence != nullptr) *sequence = record.sequence;
  return {};
}

Status Writer::checkpoint_if_due() {
  if (failed_) return writer_failed();
  if (sealed_sequence_ == sequence_) return {};
  const bool count_due = sequence_ - sealed_sequence_ >= config_.checkpoint_every_records;
  const auto period_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(config_.checkpoint_every).count();
  const std::int64_t now_ns = std::max<std::int64_t>(clock_(), last_timestamp_ns_);
  const bool time_due = now_ns - last_checkpoint_ns_ >= period_ns;
  if (!count_due && !time_due) return {};
  return write_checkpoint();
}

Status Writer::seal() {
  if (failed_) return writer_failed();
  if (sealed_sequence_ == sequence_) return {};
  return write_checkpoint();
}

}  // namespace twofold::audit
