#pragma once
// Where the writer's bytes go. An interface so that tests can inject ENOSPC/EIO at any
// point and prove the writer fails closed; PosixLogStore is the real one.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "twofold/audit/status.h"

namespace twofold::audit {

// One open, append-only log file.
class LogFile {
 public:
  virtual ~LogFile() = default;
  // Writes all bytes or reports why not (partial writes are retried; EINTR handled).
  virtual Status append(std::string_view bytes) = 0;
  // fdatasync: the appended bytes and the file size are on stable storage.
  virtual Status sync_data() = 0;
  // fsync: data and all metadata.
  virtual Status sync_all() = 0;
  // Cuts the file back to `size` bytes (used to remove a torn line). Cutting it to its own
  // size gives back blocks preallocated past its end.
  virtual Status truncate(std::uint64_t size) = 0;
  // Allocates disk blocks so the file can grow to `bytes` without needing new ones (its
  // size does not change): appends within that room cannot fail with ENOSPC when other
  // writers fill the disk. A file system that cannot preallocate reports ok.
  virtual Status preallocate(std::uint64_t bytes) = 0;
  [[nodiscard]] virtual std::uint64_t size() const = 0;
};

// The directory that holds one log's files.
class LogStore {
 public:
  virtual ~LogStore() = default;
  // File names (not paths) present in the directory, unsorted.
  virtual Status list(std::vector<std::string>& out) = 0;
  // Opens an existing file for appending.
  virtual Status open_append(const std::string& name, std::unique_ptr<LogFile>& out) = 0;
  // Creates a new file (fails if it exists) for appending.
  virtual Status create(const std::string& name, std::unique_ptr<LogFile>& out) = 0;
  virtual Status read(const std::string& name, std::string& out) = 0;
  // Size in bytes of an existing file.
  virtual Status file_size(const std::string& name, std::uint64_t& out) = 0;
  // Deletes a file (retention; the reserve). Missing is not an error.
  virtual Status remove(const std::string& name) = 0;
  // fsync on the directory, so a newly created file's name survives a power cut.
  virtual Status sync_directory() = 0;
};

class PosixLogFile final : public LogFile {
 public:
  // Takes ownership of fd.
  explicit PosixLogFile(int fd, std::uint64_t size);
  ~PosixLogFile() override;
  PosixLogFile(const PosixLogFile&) = delete;
  PosixLogFile& operator=(const PosixLogFile&) = delete;

  // Opens any path for appending (O_WRONLY|O_APPEND|O_CLOEXEC); e.g. /dev/full in tests.
  static Status open(const std::filesystem::path& path, bool create_exclusive,
                     std::unique_ptr<LogFile>& out);

  Status append(std::string_view bytes) override;
  Status sync_data() override;
  Status sync_all() override;
  Status truncate(std::uint64_t size) override;
  Status preallocate(std::uint64_t bytes) override;
  [[nodiscard]] std::uint64_t size() const override { return size_; }

 private:
  int fd_;
  std::uint64_t size_;
};

class PosixLogStore final : public LogStore {
 public:
  // Creates the directory (0750) if it does not exist; throws std::filesystem_error if
  // that fails.
  explicit PosixLogStore(std::filesystem::path directory);
  Status list(std::vector<std::string>& out) override;
  Status open_append(const std::string& name, std::unique_ptr<LogFile>& out) override;
  Status create(const std::string& name, std::unique_ptr<LogFile>& out) override;
  Status read(const std::string& name, std::string& out) override;
  Status file_size(const std::string& name, std::uint64_t& out) override;
  Status remove(const std::string& name) override;
  Status sync_directory() override;

 private:
  std::filesystem::path directory_;
};

}  // namespace twofold::audit
