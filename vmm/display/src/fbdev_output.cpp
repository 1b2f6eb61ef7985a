#include "twofold/display/fbdev_output.h"

#include <fcntl.h>
#include <linux/fb.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include <cerrno>
#include <optional>
#include <system_error>

#include "posix_resources.h"

namespace twofold::display {

namespace {

std::string errno_text(int error) { return std::system_category().message(error); }

} // namespace

Result<BufferLayout> check_fbdev_format(const FbdevInfo& info) {
    if (!info.packed_truecolor) return Error{"not a packed-pixel true-colour framebuffer"};
    if (info.bits_per_pixel != 32) {
        return Error{std::to_string(info.bits_per_pixel) + " bpp: only 32 bpp framebuffers are supported"};
    }
    if (info.red_offset != 16 || info.green_offset != 8 || info.blue_offset != 0) {
        return Error{"channel order r" + std::to_string(info.red_offset) + " g" + std::to_string(info.green_offset) +
                     " b" + std::to_string(info.blue_offset) + ": only XRGB8888 (r16 g8 b0) is supported"};
    }
    auto layout = check_buffer_layout(info.xres, info.yres, info.line_length, info.smem_len);
    if (!layout) return Error{"framebuffer memory: " + layout.error().message};
    return layout;
}

struct FbdevTarget::State {
    std::string device;
    detail::UniqueFd fd;
    BufferLayout layout;
    std::size_t offset = 0; // of the visible page in the mapping
    detail::SharedMapping mapping;
    std::optional<Screen> screen;
};

FbdevTarget::FbdevTarget(std::unique_ptr<State> state) : state_(std::move(state)) {}
FbdevTarget::~FbdevTarget() = default;

Result<std::unique_ptr<FbdevTarget>> FbdevTarget::open(const std::filesystem::path& device) {
    auto state = std::make_unique<State>();
    state->device = device.string();
    const std::string& name = state->device;
    state->fd = detail::UniqueFd(::open(name.c_str(), O_RDWR | O_CLOEXEC));
    if (!state->fd.valid()) {
        const int error = errno;
        if (error == ENOENT) return Error{name + ": no such device"};
        return Error{name + ": cannot open: " + errno_text(error)};
    }
    fb_var_screeninfo var{};
    fb_fix_screeninfo fix{};
    if (::ioctl(state->fd.get(), FBIOGET_VSCREENINFO, &var) != 0 ||
        ::ioctl(state->fd.get(), FBIOGET_FSCREENINFO, &fix) != 0) {
        return Error{name + " is not a framebuffer device (" + errno_text(errno) + ")"};
    }
    const FbdevInfo info{var.xres,        var.yres,       var.bits_per_pixel, var.red.offset,
                         var.green.offset, var.blue.offset, fix.line_length,    fix.smem_len,
                         fix.type == FB_TYPE_PACKED_PIXELS && fix.visual == FB_VISUAL_TRUECOLOR};
    auto layout = check_fbdev_format(info);
    if (!layout) return Error{name + ": " + layout.error().message};
    state->layout = layout.value();
    // The visible page starts at the panning offset; we draw there and never pan.
    const std::size_t offset = std::size_t{var.yoffset} * fix.line_length + std::size_t{var.xoffset} * 4;
    if (offset + state->layout.size > fix.smem_len) return Error{name + ": panned view lies outside its memory"};
    void* address = ::mmap(nullptr, fix.smem_len, PROT_READ | PROT_WRITE, MAP_SHARED, state->fd.get(), 0);
    if (address == MAP_FAILED) return Error{name + ": mapping the framebuffer failed: " + errno_text(errno)};
    state->mapping = detail::SharedMapping(address, fix.smem_len);
    state->offset = offset;
    state->screen.emplace(state->layout.width, state->layout.height);
    return std::make_unique<FbdevTarget>(std::move(state));
}

Screen& FbdevTarget::screen() noexcept { return *state_->screen; }

void FbdevTarget::present(const Rect& damage) {
    copy_to_buffer(*state_->screen, damage, state_->mapping.bytes().subspan(state_->offset), state_->layout);
}

std::string FbdevTarget::describe() const {
    return "fbdev " + state_->device + ": " + std::to_string(state_->layout.width) + "x" +
           std::to_string(state_->layout.height) + ", pitch " + std::to_string(state_->layout.pitch);
}

} // namespace twofold::display
