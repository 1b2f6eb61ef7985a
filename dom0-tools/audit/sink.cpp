#include "twofold/audit/sink.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace twofold::audit {
namespace {

Status io_error(const std::string& what, int error) {
  return Status(ErrorCode::io, what + ": " + std::strerror(error), error);
}

// Closes a descriptor at scope exit (used for short-lived directory descriptors).
class FdGuard {
 public:
  explicit FdGuard(int fd) : fd_(fd) {}
  ~FdGuard() {
    if (fd_ >= 0) ::close(fd_);
  }
  FdGuard(const FdGuard&) = delete;
  FdGuard& operator=(const FdGuard&) = delete;
  [[nodiscard]] int get() const { return fd_; }

 private:
  int fd_;
};

}  // namespace

PosixLogFile::PosixLogFile(int fd, std::uint64_t size) : fd_(fd), size_(size) {}

PosixLogFile::~PosixLogFile() {
  if (fd_ >= 0) ::close(fd_);
}

Status PosixLogFile::open(const std::filesystem::path& path, bool create_exclusive,
                          std::unique_ptr<LogFile>& out) {
  int flags = O_WRONLY | O_APPEND | O_CLOEXEC;
  if (create_exclusive) flags |= O_CREAT | O_EXCL;
  // 0640: the log is not secret from the audit group, but only the writer may append.
  const int fd = ::open(path.c_str(), flags, 0640);
  if (fd < 0) return io_error("open " + path.string(), errno);
  struct stat info {};
  if (::fstat(fd, &info) != 0) {
    const int error = errno;
    ::close(fd);
    return io_error("fstat " + path.string(), error);
  }
  out = std::make_unique<PosixLogFile>(fd, static_cast<std::uint64_t>(info.st_size));
  return {};
}

Status PosixLogFile::append(std::string_view bytes) {
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd_, bytes.data() + done, bytes.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int error = errno;
      size_ += done;
      return io_error("write audit log", error);
    }
    if (n == 0) {
      size_ += done;
      return io_error("write audit log (no progress)", EIO);
    }
    done += static_cast<std::size_t>(n);
  }
  size_ += done;
  return {};
}

Status PosixLogFile::sync_data() {
  if (::fdatasync(fd_) != 0) return io_error("fdatasync audit log", errno);
  return {};
}

Status PosixLogFile::sync_all() {
  if (::fsync(fd_) != 0) return io_error("fsync audit log", errno);
  return {};
}

Status PosixLogFile::truncate(std::uint64_t size) {
  if (::ftruncate(fd_, static_cast<off_t>(size)) != 0) return io_error("ftruncate audit log", errno);
  size_ = size;
  return {};
}

Status PosixLogFile::preallocate(std::uint64_t bytes) {
  if (bytes <= size_) return {};
  // KEEP_SIZE: the blocks are reserved past the end, readers and the verifier still see
  // only the lines written.
  for (;;) {
    if (::fallocate(fd_, FALLOC_FL_KEEP_SIZE, 0, static_cast<off_t>(bytes)) == 0) return {};
    if (errno == EINTR) continue;
    if (errno == EOPNOTSUPP || errno == ENOSYS) return {};  // e.g. some FUSE or 9p mounts
    return io_error("fallocate audit log", errno);
  }
}

PosixLogStore::PosixLogStore(std::filesystem::path directory) : directory_(std::move(directory)) {
  if (std::filesystem::create_directories(directory_)) {
    std::filesystem::permissions(directory_, std::filesystem::perms(0750));
  }
}

Status PosixLogStore::list(std::vector<std::string>& out) {
  out.clear();
  std::error_code error;
  std::filesystem::directory_iterator it(directory_, error);
  for (; !error && it != std::filesystem::directory_iterator(); it.increment(error)) {
    if (it->is_regular_file(error)) out.push_back(it->path().filename().string());
  }
  if (error) return Status(ErrorCode::io, "list " + directory_.string() + ": " + error.message(), error.value());
  return {};
}

Status PosixLogStore::open_append(const std::string& name, std::unique_ptr<LogFile>& out) {
  return PosixLogFile::open(directory_ / name, false, out);
}

Status PosixLogStore::create(const std::string& name, std::unique_ptr<LogFile>& out) {
  return PosixLogFile::open(directory_ / name, true, out);
}

Status PosixLogStore::read(const std::string& name, std::string& out) {
  std::ifstream in(directory_ / name, std::ios::binary);
  if (!in) return io_error("read " + (directory_ / name).string(), errno);
  std::ostringstream buffer;
  buffer << in.rdbuf();
  out = std::move(buffer).str();
  return {};
}

Status PosixLogStore::file_size(const std::string& name, std::uint64_t& out) {
  struct stat info {};
  if (::stat((directory_ / name).c_str(), &info) != 0) return io_error("stat " + (directory_ / name).string(), errno);
  out = static_cast<std::uint64_t>(info.st_size);
  return {};
}

Status PosixLogStore::remove(const std::string& name) {
  if (::unlink((directory_ / name).c_str()) != 0 && errno != ENOENT) {
    return io_error("unlink " + (directory_ / name).string(), errno);
  }
  return {};
}

Status PosixLogStore::sync_directory() {
  const FdGuard fd(::open(directory_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() < 0) return io_error("open directory " + directory_.string(), errno);
  if (::fsync(fd.get()) != 0) return io_error("fsync directory " + directory_.string(), errno);
  return {};
}

}  // namespace twofold::audit
