#pragma once
// Shared fixtures for the audit tests: a scratch directory, a stepping clock, an in-memory
// log store with fault injection, and "attacker" helpers that rewrite a log on disk.

#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "twofold/audit/format.h"
#include "twofold/audit/hash.h"
#include "twofold/audit/keys.h"
#include "twofold/audit/sink.h"
#include "twofold/audit/writer.h"

namespace twofold::audit::testing {

class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "twofold-audit-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  [[nodiscard]] const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// A clock that advances by `step` ns per reading; the test can move it.
struct SteppingClock {
  std::shared_ptr<std::int64_t> now = std::make_shared<std::int64_t>(1'700'000'000'000'000'000);
  std::int64_t step = 1'000'000;  // 1 ms
  Clock clock() const {
    auto state = now;
    auto delta = step;
    return [state, delta] { return *state += delta; };
  }
};

inline Event event(std::string kind, int n) {
  return Event{std::move(kind), std::string("work"), {{"n", n}}};
}

inline std::vector<std::string> read_lines(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::vector<std::string> lines;
  std::string line;
  while (std::getline(in, line)) lines.push_back(line);
  return lines;
}

inline void write_lines(const std::filesystem::path& file, const std::vector<std::string>& lines) {
  std::ofstream out(file, std::ios::binary | std::ios::trunc);
  for (const auto& line : lines) out << line << '\n';
}

inline std::string read_file(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::ostringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

// Rewrites one line's JSON (kept canonical), without fixing any hash: a naive edit.
template <typename Edit>
void edit_json(std::string& line, Edit edit) {
  nlohmann::json object = nlohmann::json::parse(line);
  edit(object);
  line = object.dump();
}

// What an attacker without the signing key can do: recompute every record's chain value
// from line `from` (0-based) to the end of this file, starting at `previous`.
inline void rechain(std::vector<std::string>& lines, std::size_t from, Digest previous) {
  for (std::size_t i = from; i < lines.size(); ++i) {
    nlohmann::json object = nlohmann::json::parse(lines[i]);
    if (object["type"] != "record") continue;
    object.erase("chain");
    previous = chain_hash(previous, leaf_hash(object.dump()));
    object["chain"] = to_hex(previous);
    lines[i] = object.dump();
  }
}

inline Digest chain_of(const std::string& line) {
  const nlohmann::json object = nlohmann::json::parse(line);
  const std::string key = object["type"] == "header" ? "prev_chain" : "chain";
  return *digest_from_hex(object[key].get<std::string>());
}

// Re-signs a checkpoint line with `key` over the chain/sequence currently in the line.
inline void resign(std::string& line, const SigningKey& key, const std::string& claimed_key_id) {
  nlohmann::json object = nlohmann::json::parse(line);
  const auto chain = *digest_from_hex(object["chain"].get<std::string>());
  const std::string message = checkpoint_message(object["seq"].get<std::uint64_t>(), chain,
                                                 object["ts"].get<std::int64_t>(), claimed_key_id);
  const Signature signature = key.sign(
      std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(message.data()), message.size()));
  object["key_id"] = claimed_key_id;
  object["sig"] = to_hex(signature);
  line = object.dump();
}

// In-memory store whose files outlive the writer (shared state) and whose writes and syncs
// can be made to fail with a chosen errno.
struct MemoryState {
  std::map<std::string, std::string> files;
  int fail_append_errno = 0;       // next append fails with this (after writing fail_after_bytes)
  std::size_t fail_after_bytes = 0;
  int fail_sync_errno = 0;
  int fail_create_errno = 0;
  int syncs = 0;
  int preallocations = 0;
  // A disk of this many bytes (0: unbounded): a file takes max(its size, its
  // preallocation); growing or preallocating past the capacity fails with ENOSPC.
  std::uint64_t capacity_bytes = 0;
  std::map<std::string, std::uint64_t> allocated;
  std::uint64_t used() const {
    std::uint64_t total = 0;
    for (const auto& [name, bytes] : allocated) total += bytes;
    return total;
  }
  // Takes `bytes` of disk for `name` if they fit.
  bool allocate(const std::string& name, std::uint64_t bytes) {
    const std::uint64_t have = allocated[name];
    if (bytes <= have) return true;
    if (capacity_bytes != 0 && used() + (bytes - have) > capacity_bytes) return false;
    allocated[name] = bytes;
    return true;
  }
};

class MemoryLogFile final : public LogFile {
 public:
  MemoryLogFile(std::shared_ptr<MemoryState> state, std::string name)
      : state_(std::move(state)), name_(std::move(name)) {}
  Status append(std::string_view bytes) override {
    if (state_->fail_append_errno != 0) {
      // A partial write, as a full disk would leave it.
      state_->files[name_].append(bytes.substr(0, std::min(bytes.size(), state_->fail_after_bytes)));
      return Status(ErrorCode::io, "write: injected failure", state_->fail_append_errno);
    }
    if (!state_->allocate(name_, state_->files[name_].size() + bytes.size())) {
      return Status(ErrorCode::io, "write: disk full", ENOSPC);
    }
    state_->files[name_].append(bytes);
    return {};
  }
  Status sync_data() override { return sync(); }
  Status sync_all() override { return sync(); }
  Status truncate(std::uint64_t size) override {
    state_->files[name_].resize(size);
    state_->allocated[name_] = size;
    return {};
  }
  Status preallocate(std::uint64_t bytes) override {
    ++state_->preallocations;
    if (!state_->allocate(name_, bytes)) return Status(ErrorCode::io, "fallocate: disk full", ENOSPC);
    return {};
  }
  [[nodiscard]] std::uint64_t size() const override { return state_->files[name_].size(); }

 private:
  Status sync() {
    if (state_->fail_sync_errno != 0) return Status(ErrorCode::io, "fsync: injected failure", state_->fail_sync_errno);
    ++state_->syncs;
    return {};
  }
  std::shared_ptr<MemoryState> state_;
  std::string name_;
};

class MemoryLogStore final : public LogStore {
 public:
  explicit MemoryLogStore(std::shared_ptr<MemoryState> state) : state_(std::move(state)) {}
  Status list(std::vector<std::string>& out) override {
    out.clear();
    for (const auto& [name, content] : state_->files) out.push_back(name);
    return {};
  }
  Status open_append(const std::string& name, std::unique_ptr<LogFile>& out) override {
    if (!state_->files.contains(name)) return Status(ErrorCode::io, "no such file", ENOENT);
    out = std::make_unique<MemoryLogFile>(state_, name);
    return {};
  }
  Status create(const std::string& name, std::unique_ptr<LogFile>& out) override {
    if (state_->fail_create_errno != 0) return Status(ErrorCode::io, "create: injected", state_->fail_create_errno);
    if (state_->files.contains(name)) return Status(ErrorCode::io, "exists", EEXIST);
    state_->files[name];
    out = std::make_unique<MemoryLogFile>(state_, name);
    return {};
  }
  Status read(const std::string& name, std::string& out) override {
    out = state_->files.at(name);
    return {};
  }
  Status file_size(const std::string& name, std::uint64_t& out) override {
    if (!state_->files.contains(name)) return Status(ErrorCode::io, "no such file", ENOENT);
    out = state_->files[name].size();
    return {};
  }
  Status remove(const std::string& name) override {
    state_->files.erase(name);
    state_->allocated.erase(name);
    return {};
  }
  Status sync_directory() override { return {}; }

 private:
  std::shared_ptr<MemoryState> state_;
};

// The log's files (not the reserve), in order, as verify_buffers takes them.
inline std::vector<std::pair<std::string, std::string>> memory_files(const MemoryState& state) {
  std::vector<std::pair<std::string, std::string>> files;
  for (const auto& [name, content] : state.files) {
    if (parse_log_file_name(name)) files.emplace_back(name, content);
  }
  return files;
}

}  // namespace twofold::audit::testing
