#include "twofold/xen/mapped_pages.h"

#include <utility>

#include "twofold/xen/event_channel.h"

namespace twofold::xen {

MappedPages::MappedPages(std::span<std::byte> bytes, Release release)
    : bytes_(bytes), release_(std::move(release)) {}

MappedPages::~MappedPages() { reset(); }

MappedPages::MappedPages(MappedPages&& other) noexcept
    : bytes_(std::exchange(other.bytes_, {})), release_(std::exchange(other.release_, {})) {}

MappedPages& MappedPages::operator=(MappedPages&& other) noexcept {
    if (this != &other) {
        reset();
        bytes_ = std::exchange(other.bytes_, {});
        release_ = std::exchange(other.release_, {});
    }
    return *this;
}

void MappedPages::reset() noexcept {
    if (release_) {
        auto release = std::exchange(release_, {});
        try {
            release(bytes_);
        } catch (...) {
            // Unmap failures cannot be acted on here (destructor path); the releaser logs.
        }
    }
    bytes_ = {};
}

void BoundPort::reset() noexcept {
    if (channel_ != nullptr) {
        try {
            channel_->unbind(port_);
        } catch (...) {
            // The remote end may already be gone; the port is freed with the handle anyway.
        }
        channel_ = nullptr;
    }
}

} // namespace twofold::xen
