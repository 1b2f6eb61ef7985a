#pragma once
// Owns one file descriptor (a device, memfd, eventfd, socket); closes it exactly once. Shared
// by the loopback hypervisor, the backends and the manager.
#include <unistd.h>

#include <utility>

namespace twofold::xen {

class UniqueFd {
public:
    UniqueFd() = default;
    explicit UniqueFd(int fd) noexcept : fd_(fd) {}
    ~UniqueFd() { reset(); }
    UniqueFd(UniqueFd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
    UniqueFd& operator=(UniqueFd&& other) noexcept {
        if (this != &other) {
            reset();
            fd_ = std::exchange(other.fd_, -1);
        }
        return *this;
    }
    UniqueFd(const UniqueFd&) = delete;
    UniqueFd& operator=(const UniqueFd&) = delete;

    [[nodiscard]] int get() const noexcept { return fd_; }
    [[nodiscard]] bool valid() const noexcept { return fd_ >= 0; }
    // Gives up ownership: whoever takes the descriptor closes it.
    [[nodiscard]] int release() noexcept { return std::exchange(fd_, -1); }
    void reset() noexcept {
        if (fd_ >= 0) {
            ::close(fd_);
            fd_ = -1;
        }
    }

private:
    int fd_ = -1;
};

// Builds the object that takes over the descriptor (an Asio socket or stream descriptor,
// `Owner(args..., fd)`), and gives up ownership only once it is built: a constructor that
// throws leaves the descriptor to `fd`, which closes it.
template <typename Owner, typename... Args>
Owner hand_over(UniqueFd& fd, Args&&... args) {
    Owner owner(std::forward<Args>(args)..., fd.get());
    (void)fd.release();
    return owner;
}

} // namespace twofold::xen
