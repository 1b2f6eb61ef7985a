#pragma once
// The fbdev fallback: a Linux framebuffer device at its current mode, 32 bpp XRGB only, mapped
// once. A present copies the damage straight into the mapping (fbdev has no flip, so a frame
// can tear; the DRM target is the one that shows whole frames at once).
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

#include "twofold/display/output.h"

namespace twofold::display {

// What FBIOGET_VSCREENINFO / FBIOGET_FSCREENINFO report, as plain numbers.
struct FbdevInfo {
    std::uint32_t xres = 0;
    std::uint32_t yres = 0;
    std::uint32_t bits_per_pixel = 0;
    std::uint32_t red_offset = 0;
    std::uint32_t green_offset = 0;
    std::uint32_t blue_offset = 0;
    std::uint32_t line_length = 0;
    std::uint32_t smem_len = 0;
    bool packed_truecolor = true; // FB_TYPE_PACKED_PIXELS and FB_VISUAL_TRUECOLOR
};

// The visible mode as a buffer layout, or why this framebuffer cannot be served.
Result<BufferLayout> check_fbdev_format(const FbdevInfo& info);

class FbdevTarget final : public DisplayTarget {
public:
    static Result<std::unique_ptr<FbdevTarget>> open(const std::filesystem::path& device);
    ~FbdevTarget() override;
    FbdevTarget(const FbdevTarget&) = delete;
    FbdevTarget& operator=(const FbdevTarget&) = delete;

    Screen& screen() noexcept override;
    void present(const Rect& damage) override;

    [[nodiscard]] std::string describe() const;

    // Only open() can make a State (it is defined in the source file).
    struct State;
    explicit FbdevTarget(std::unique_ptr<State> state);

private:
    std::unique_ptr<State> state_;
};

} // namespace twofold::display
