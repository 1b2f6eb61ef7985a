#include "twofold/display/output.h"

#include <algorithm>
#include <charconv>
#include <cstring>
#include <string>

#include "twofold/display/drm_output.h"
#include "twofold/display/fbdev_output.h"

namespace twofold::display {

namespace {

constexpr std::size_t kBytesPerPixel = 4;
// Drivers align pitches (64 or 256 bytes typically); more than this is not alignment.
constexpr std::uint64_t kMaxPitchSlack = 64 * 1024;

std::optional<std::uint32_t> parse_side(std::string_view text) {
    std::uint32_t value = 0;
    const auto* end = text.data() + text.size();
    const auto [ptr, ec] = std::from_chars(text.data(), end, value);
    if (ec != std::errc{} || ptr != end || value == 0 || value > kMaxOutputSide) return std::nullopt;
    return value;
}

} // namespace

Result<OutputSpec> parse_output_spec(std::string_view text) {
    const auto colon = text.find(':');
    const std::string_view kind = text.substr(0, colon);
    const std::string_view device = colon == std::string_view::npos ? std::string_view{} : text.substr(colon + 1);
    if (colon != std::string_view::npos && device.empty()) {
        return Error{"--output " + std::string(text) + ": device path missing after ':'"};
    }
    if (kind == "headless") {
        if (!device.empty()) return Error{"--output headless takes no device"};
        return OutputSpec{OutputKind::Headless, {}};
    }
    if (kind == "drm") return OutputSpec{OutputKind::Drm, device.empty() ? kDefaultDrmDevice : device};
    if (kind == "fbdev") return OutputSpec{OutputKind::Fbdev, device.empty() ? kDefaultFbdevDevice : device};
    return Error{"--output " + std::string(text) + ": expected headless, drm[:DEVICE] or fbdev[:DEVICE]"};
}

Result<ModeRequest> parse_mode_request(std::string_view text) {
    const auto x = text.find('x');
    if (x == std::string_view::npos) return Error{"--mode " + std::string(text) + ": expected WIDTHxHEIGHT"};
    const auto width = parse_side(text.substr(0, x));
    const auto height = parse_side(text.substr(x + 1));
    if (!width || !height) {
        return Error{"--mode " + std::string(text) + ": sides must be 1.." + std::to_string(kMaxOutputSide)};
    }
    return ModeRequest{*width, *height};
}

Result<BufferLayout> check_buffer_layout(std::uint32_t width, std::uint32_t height, std::uint64_t pitch,
                                         std::uint64_t size) {
    if (width == 0 || height == 0 || width > kMaxOutputSide || height > kMaxOutputSide) {
        return Error{"buffer " + std::to_string(width) + "x" + std::to_string(height) + " out of range"};
    }
    const std::uint64_t row = std::uint64_t{width} * kBytesPerPixel;
    if (pitch < row || pitch % kBytesPerPixel != 0 || pitch > row + kMaxPitchSlack) {
        return Error{"pitch " + std::to_string(pitch) + " does not fit a row of " + std::to_string(row) + " bytes"};
    }
    const std::uint64_t needed = pitch * height; // both bounded above: no overflow
    if (size < needed) {
        return Error{"buffer of " + std::to_string(size) + " bytes is smaller than " + std::to_string(needed) +
                     " (pitch x height)"};
    }
    return BufferLayout{width, height, static_cast<std::size_t>(pitch), static_cast<std::size_t>(needed)};
}

void copy_to_buffer(const Screen& screen, const Rect& damage, std::span<std::byte> buffer,
                    const BufferLayout& layout) noexcept {
    const std::uint32_t max_w = std::min(screen.width(), layout.width);
    const std::uint32_t max_h = std::min(screen.height(), layout.height);
    if (damage.empty() || damage.x >= max_w || damage.y >= max_h) return;
    const std::uint32_t w = std::min(damage.width, max_w - damage.x);
    const std::uint32_t h = std::min(damage.height, max_h - damage.y);
    if (buffer.size() < layout.size) return; // a layout that does not describe this buffer
    const auto* src = reinterpret_cast<const std::byte*>(screen.pixels().data());
    const std::size_t src_stride = screen.stride_bytes();
    const std::size_t row_bytes = std::size_t{w} * kBytesPerPixel;
    const std::size_t x_bytes = std::size_t{damage.x} * kBytesPerPixel;
    if (row_bytes == src_stride && row_bytes == layout.pitch) {
        std::memcpy(buffer.data() + std::size_t{damage.y} * layout.pitch, src + std::size_t{damage.y} * src_stride,
                    row_bytes * h);
        return;
    }
    for (std::uint32_t y = damage.y; y < damage.y + h; ++y) {
        std::memcpy(buffer.data() + std::size_t{y} * layout.pitch + x_bytes, src + std::size_t{y} * src_stride + x_bytes,
                    row_bytes);
    }
}

Rect full_screen(const Screen& screen) noexcept { return Rect{0, 0, screen.width(), screen.height()}; }

Result<std::unique_ptr<DisplayTarget>> open_output(const OutputSpec& spec, std::optional<ModeRequest> mode,
                                                   ModeRequest headless_size) {
    switch (spec.kind) {
    case OutputKind::Headless: {
        const ModeRequest size = mode.value_or(headless_size);
        return std::unique_ptr<DisplayTarget>(std::make_unique<HeadlessTarget>(size.width, size.height));
    }
    case OutputKind::Drm: {
        auto target = DrmTarget::open(spec.device, mode);
        if (!target) return target.error();
        return std::unique_ptr<DisplayTarget>(std::move(target).value());
    }
    case OutputKind::Fbdev: {
        if (mode) return Error{"--mode cannot be used with fbdev: the device's current mode is used"};
        auto target = FbdevTarget::open(spec.device);
        if (!target) return target.error();
        return std::unique_ptr<DisplayTarget>(std::move(target).value());
    }
    }
    return Error{"unknown output kind"};
}

} // namespace twofold::display
