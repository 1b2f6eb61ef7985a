#pragma once
// Where the composed screen goes: a DRM/KMS device (dumb buffers through libdrm), a Linux
// framebuffer device (fbdev fallback), or the headless target (tests, lab without a display).
// The output decides the screen size: the compositor takes its mode from the target, and
// guests are offered that mode less the indicator strip.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "twofold/display/screen.h"
#include "twofold/xenbus/result.h"

namespace twofold::display {

using xenbus::Error;
using xenbus::Result;

inline constexpr std::string_view kDefaultDrmDevice = "/dev/dri/card0";
inline constexpr std::string_view kDefaultFbdevDevice = "/dev/fb0";
// Panels larger than this are refused rather than allocated (Screen's own bound is higher).
inline constexpr std::uint32_t kMaxOutputSide = 8192;

enum class OutputKind : std::uint8_t { Headless, Drm, Fbdev };

struct OutputSpec {
    OutputKind kind = OutputKind::Headless;
    std::filesystem::path device; // empty for headless
    friend bool operator==(const OutputSpec&, const OutputSpec&) = default;
};

// "headless", "drm", "drm:/dev/dri/card1", "fbdev", "fbdev:/dev/fb1".
Result<OutputSpec> parse_output_spec(std::string_view text);

struct ModeRequest {
    std::uint32_t width = 0;
    std::uint32_t height = 0;
    friend bool operator==(const ModeRequest&, const ModeRequest&) = default;
};

// "1280x800": both sides in [1, kMaxOutputSide].
Result<ModeRequest> parse_mode_request(std::string_view text);

// How a scan-out buffer is laid out: XRGB8888 rows `pitch` bytes apart.
struct BufferLayout {
    std::uint32_t width = 0;
    std::uint32_t height = 0;
    std::size_t pitch = 0; // bytes per row
    std::size_t size = 0;  // bytes the mapping must hold
    friend bool operator==(const BufferLayout&, const BufferLayout&) = default;
};

// Checks what a driver reported for a buffer of width x height at 32 bits per pixel: a pitch
// that holds a row, a multiple of 4, and a size that holds every row (64-bit arithmetic, so a
// driver's bogus numbers are an error, never an overrun).
Result<BufferLayout> check_buffer_layout(std::uint32_t width, std::uint32_t height, std::uint64_t pitch,
                                         std::uint64_t size);

// Copies `damage` (clipped to the screen and to the buffer) from the screen into a buffer with
// `layout`; a row at a time when the pitches differ.
void copy_to_buffer(const Screen& screen, const Rect& damage, std::span<std::byte> buffer,
                    const BufferLayout& layout) noexcept;

// A target showing the whole screen: the full rectangle.
[[nodiscard]] Rect full_screen(const Screen& screen) noexcept;

// Opens the output. `mode` chooses a DRM mode (default: the connector's preferred one); fbdev
// takes the device's current mode; headless uses `headless_size` (the mode request if given).
// Errors name the device and say why ("no such device", "not a DRM device", "24 bpp: only 32
// bpp framebuffers are supported").
Result<std::unique_ptr<DisplayTarget>> open_output(const OutputSpec& spec, std::optional<ModeRequest> mode,
                                                   ModeRequest headless_size);

} // namespace twofold::display
