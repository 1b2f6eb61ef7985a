#pragma once
// An owned mapping of guest pages (grant or foreign). Unmapping happens exactly once, on
// destruction or reset(), whatever path the owner leaves by: that is the only way mappings
// are released, so a leak is impossible without leaking the object itself.
#include <cstddef>
#include <functional>
#include <span>

namespace twofold::xen {

class MappedPages {
public:
    using Release = std::function<void(std::span<std::byte>)>;

    MappedPages() = default;
    MappedPages(std::span<std::byte> bytes, Release release);
    ~MappedPages();

    MappedPages(MappedPages&& other) noexcept;
    MappedPages& operator=(MappedPages&& other) noexcept;
    MappedPages(const MappedPages&) = delete;
    MappedPages& operator=(const MappedPages&) = delete;

    [[nodiscard]] std::span<std::byte> bytes() const noexcept { return bytes_; }
    [[nodiscard]] std::size_t size() const noexcept { return bytes_.size(); }
    [[nodiscard]] bool empty() const noexcept { return bytes_.empty(); }

    // Unmaps now; the object becomes empty.
    void reset() noexcept;

private:
    std::span<std::byte> bytes_;
    Release release_;
};

} // namespace twofold::xen
