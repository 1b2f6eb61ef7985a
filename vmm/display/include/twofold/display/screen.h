#pragma once
// dom0's screen as XRGB8888 pixels in memory (one 32-bit word per pixel, tightly packed
// rows). The compositor draws into it; a DisplayTarget shows it (DRM dumb buffer, fbdev, or
// the headless target that keeps frames for tests).
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <vector>

#include "twofold/xenbus/result.h"

namespace twofold::display {

// Rectangles on the screen or in a guest framebuffer, always already validated.
struct Rect {
    std::uint32_t x = 0;
    std::uint32_t y = 0;
    std::uint32_t width = 0;
    std::uint32_t height = 0;

    [[nodiscard]] bool empty() const noexcept { return width == 0 || height == 0; }
    friend bool operator==(const Rect&, const Rect&) = default;
};

// The smallest rectangle holding both (an empty one holds nothing).
Rect bounding_union(const Rect& a, const Rect& b) noexcept;

class Screen {
public:
    // Throws std::invalid_argument for a zero or absurd size (a configuration error).
    Screen(std::uint32_t width, std::uint32_t height);

    [[nodiscard]] std::uint32_t width() const noexcept { return width_; }
    [[nodiscard]] std::uint32_t height() const noexcept { return height_; }
    [[nodiscard]] std::size_t stride_bytes() const noexcept { return std::size_t{width_} * 4; }
    [[nodiscard]] std::span<std::uint32_t> pixels() noexcept { return pixels_; }
    [[nodiscard]] std::span<const std::uint32_t> pixels() const noexcept { return pixels_; }
    [[nodiscard]] std::uint32_t at(std::uint32_t x, std::uint32_t y) const { return pixels_.at(index(x, y)); }
    [[nodiscard]] std::span<std::uint32_t> row(std::uint32_t y) noexcept {
        return std::span{pixels_}.subspan(std::size_t{y} * width_, width_);
    }

    // Clipped to the screen.
    void fill(const Rect& rect, std::uint32_t xrgb) noexcept;

    // Binary PPM (P6), for test artefacts and the lab's screen comparisons.
    xenbus::Result<void> write_ppm(const std::filesystem::path& path) const;

private:
    [[nodiscard]] std::size_t index(std::uint32_t x, std::uint32_t y) const noexcept {
        return std::size_t{y} * width_ + x;
    }
    std::uint32_t width_;
    std::uint32_t height_;
    std::vector<std::uint32_t> pixels_;
};

// Where presented frames go. present() is called once per composed frame, after every pixel
// of it (strip and content) is in screen(): a target shows the whole frame or none of it.
class DisplayTarget {
public:
    virtual ~DisplayTarget() = default;
    virtual Screen& screen() noexcept = 0;
    virtual void present(const Rect& damage) = 0;
};

// Keeps frames in memory; tests look at screen() after each present().
class HeadlessTarget final : public DisplayTarget {
public:
    HeadlessTarget(std::uint32_t width, std::uint32_t height) : screen_(width, height) {}
    Screen& screen() noexcept override { return screen_; }
    void present(const Rect& damage) override;

    [[nodiscard]] const Screen& screen() const noexcept { return screen_; }
    [[nodiscard]] std::size_t frames_presented() const noexcept { return frames_; }
    [[nodiscard]] Rect last_damage() const noexcept { return last_damage_; }

private:
    Screen screen_;
    std::size_t frames_ = 0;
    Rect last_damage_;
};

} // namespace twofold::display
