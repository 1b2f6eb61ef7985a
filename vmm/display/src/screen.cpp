#include "twofold/display/screen.h"

#include <algorithm>
#include <fstream>
#include <stdexcept>
#include <string>

namespace twofold::display {

namespace {
// Far above any panel; keeps width*height*4 well inside size_t on every target.
constexpr std::uint32_t kMaxScreenSide = 16384;
} // namespace

Rect bounding_union(const Rect& a, const Rect& b) noexcept {
    if (a.empty()) return b;
    if (b.empty()) return a;
    // Sides are bounded by the screen/framebuffer sizes, so 64-bit sums cannot overflow.
    const std::uint64_t x0 = std::min(a.x, b.x);
    const std::uint64_t y0 = std::min(a.y, b.y);
    const std::uint64_t x1 = std::max(std::uint64_t{a.x} + a.width, std::uint64_t{b.x} + b.width);
    const std::uint64_t y1 = std::max(std::uint64_t{a.y} + a.height, std::uint64_t{b.y} + b.height);
    return Rect{static_cast<std::uint32_t>(x0), static_cast<std::uint32_t>(y0), static_cast<std::uint32_t>(x1 - x0),
                static_cast<std::uint32_t>(y1 - y0)};
}

Screen::Screen(std::uint32_t width, std::uint32_t height) : width_(width), height_(height) {
    if (width == 0 || height == 0 || width > kMaxScreenSide || height > kMaxScreenSide) {
        throw std::invalid_argument("screen size " + std::to_string(width) + "x" + std::to_string(height) +
                                    " out of range");
    }
    pixels_.assign(std::size_t{width} * height, 0);
}

void Screen::fill(const Rect& rect, std::uint32_t xrgb) noexcept {
    const std::uint32_t x0 = std::min(rect.x, width_);
    const std::uint32_t y0 = std::min(rect.y, height_);
    const std::uint32_t x1 = static_cast<std::uint32_t>(std::min<std::uint64_t>(std::uint64_t{rect.x} + rect.width, width_));
    const std::uint32_t y1 = static_cast<std::uint32_t>(std::min<std::uint64_t>(std::uint64_t{rect.y} + rect.height, height_));
    for (std::uint32_t y = y0; y < y1; ++y) {
        std::fill(pixels_.begin() + static_cast<std::ptrdiff_t>(index(x0, y)),
                  pixels_.begin() + static_cast<std::ptrdiff_t>(index(x1, y)), xrgb);
    }
}

xenbus::Result<void> Screen::write_ppm(const std::filesystem::path& path) const {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    if (!out) return xenbus::Error{"cannot open " + path.string()};
    out << "P6\n" << width_ << ' ' << height_ << "\n255\n";
    std::vector<char> line(std::size_t{width_} * 3);
    for (std::uint32_t y = 0; y < height_; ++y) {
        for (std::uint32_t x = 0; x < width_; ++x) {
            const std::uint32_t pixel = pixels_[index(x, y)];
            line[std::size_t{x} * 3] = static_cast<char>((pixel >> 16) & 0xFF);
            line[std::size_t{x} * 3 + 1] = static_cast<char>((pixel >> 8) & 0xFF);
            line[std::size_t{x} * 3 + 2] = static_cast<char>(pixel & 0xFF);
        }
        out.write(line.data(), static_cast<std::streamsize>(line.size()));
    }
    out.flush();
    if (!out) return xenbus::Error{"writing " + path.string() + " failed"};
    return {};
}

void HeadlessTarget::present(const Rect& damage) {
    ++frames_;
    last_damage_ = damage;
}

} // namespace twofold::display
