#pragma once
// Owners for the POSIX resources the outputs hold: a file descriptor (xen::UniqueFd) and a
// shared mapping.
#include <sys/mman.h>

#include <cstddef>
#include <span>
#include <utility>

#include "twofold/xen/unique_fd.h"

namespace twofold::display::detail {

using xen::UniqueFd;

class SharedMapping {
public:
    SharedMapping() = default;
    SharedMapping(void* address, std::size_t size) noexcept : address_(address), size_(size) {}
    ~SharedMapping() { reset(); }
    SharedMapping(SharedMapping&& other) noexcept
        : address_(std::exchange(other.address_, nullptr)), size_(std::exchange(other.size_, 0)) {}
    SharedMapping& operator=(SharedMapping&& other) noexcept {
        if (this != &other) {
            reset();
            address_ = std::exchange(other.address_, nullptr);
            size_ = std::exchange(other.size_, 0);
        }
        return *this;
    }
    SharedMapping(const SharedMapping&) = delete;
    SharedMapping& operator=(const SharedMapping&) = delete;

    [[nodiscard]] std::span<std::byte> bytes() const noexcept {
        return {static_cast<std::byte*>(address_), size_};
    }
    void reset() noexcept {
        if (address_ != nullptr) ::munmap(address_, size_);
        address_ = nullptr;
        size_ = 0;
    }

private:
    void* address_ = nullptr;
    std::size_t size_ = 0;
};

} // namespace twofold::display::detail
