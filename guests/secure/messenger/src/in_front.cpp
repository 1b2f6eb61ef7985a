#include "twofold/messenger/in_front.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <spdlog/spdlog.h>

namespace twofold::messenger {
namespace {

// xen/io/xs_wire.h
constexpr std::uint32_t kXsRead = 2;
constexpr std::uint32_t kXsWatch = 4;
constexpr std::uint32_t kXsWatchEvent = 15;
constexpr std::uint32_t kXsError = 16;
constexpr std::size_t kHeader = 16;
constexpr std::size_t kPayloadMax = 4096;
// Relative: xenstored resolves it in this domain's home.
constexpr std::string_view kNode = "twofold/foreground";
constexpr std::string_view kToken = "twofold-in-front";

std::uint32_t word(std::string_view bytes, std::size_t at) {
  std::uint32_t v = 0;
  std::memcpy(&v, bytes.data() + at, sizeof v);  // the ring's byte order is the guest's own
  return v;
}

}  // namespace

std::string InFrontState::request(std::uint32_t type, std::string_view payload) {
  const std::uint32_t header[4] = {type, next_req_++, 0, static_cast<std::uint32_t>(payload.size())};
  std::string out(reinterpret_cast<const char*>(header), sizeof header);
  out.append(payload);
  return out;
}

std::string InFrontState::start() {
  std::string payload(kNode);
  payload.push_back('\0');
  payload.append(kToken);
  payload.push_back('\0');
  return request(kXsWatch, payload);
}

std::string InFrontState::feed(std::string_view bytes) {
  std::string out;
  if (broken_) return out;
  buffer_.append(bytes);
  while (buffer_.size() >= kHeader) {
    const std::uint32_t type = word(buffer_, 0);
    const std::uint32_t req_id = word(buffer_, 4);
    const std::uint32_t len = word(buffer_, 12);
    if (len > kPayloadMax) {
      broken_ = true;
      buffer_.clear();
      return out;
    }
    if (buffer_.size() < kHeader + len) break;
    const std::string payload = buffer_.substr(kHeader, len);
    buffer_.erase(0, kHeader + len);
    if (type == kXsWatchEvent) {
      // "path\0token\0": any event on our token means "read again"; one read at a time.
      const auto nul = payload.find('\0');
      const bool ours = nul != std::string::npos && std::string_view(payload).substr(nul + 1).starts_with(kToken);
      if (ours && read_req_ == 0) {
        read_req_ = next_req_;
        std::string path(kNode);
        path.push_back('\0');
        out += request(kXsRead, path);
      }
    } else if (read_req_ != 0 && req_id == read_req_) {
      read_req_ = 0;
      if (type == kXsError) {
        in_front_ = true;  // ENOENT: this dom0 does not say
      } else if (type == kXsRead && (payload == "1" || payload == "0")) {
        in_front_ = payload == "1";
      } else {
        ++refused_;
      }
    }
    // Anything else (the watch's "OK", an unasked answer) changes nothing.
  }
  return out;
}

std::unique_ptr<InFrontWatch> InFrontWatch::open(const std::string& device) {
  const int fd = ::open(device.c_str(), O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    spdlog::info("messenger: no {} ({}): read markers go as if always in front", device, std::strerror(errno));
    return nullptr;
  }
  return std::make_unique<InFrontWatch>(fd);
}

InFrontWatch::InFrontWatch(int fd) : fd_(fd) { send(state_.start()); }

InFrontWatch::~InFrontWatch() { ::close(fd_); }

void InFrontWatch::send(const std::string& bytes) {
  std::size_t done = 0;
  while (done < bytes.size()) {
    const auto n = ::write(fd_, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      spdlog::warn("messenger: xenbus write failed ({}): in-front state may be stale", std::strerror(errno));
      return;
    }
    done += static_cast<std::size_t>(n);
  }
}

bool InFrontWatch::poll() {
  const bool was = state_.in_front();
  const bool was_broken = state_.broken();
  char chunk[kHeader + kPayloadMax];
  for (;;) {
    const auto n = ::read(fd_, chunk, sizeof chunk);
    if (n <= 0) break;  // EAGAIN: nothing more for now
    const auto answer = state_.feed(std::string_view(chunk, static_cast<std::size_t>(n)));
    if (!answer.empty()) send(answer);
  }
  if (state_.broken() && !was_broken) spdlog::warn("messenger: xenbus sent a frame beyond the protocol's bound; in-front state frozen");
  if (state_.in_front() != was) spdlog::info("messenger: {}", state_.in_front() ? "in front" : "in the background");
  return state_.in_front() != was;
}

}  // namespace twofold::messenger
