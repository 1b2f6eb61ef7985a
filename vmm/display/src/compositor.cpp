#include "twofold/display/compositor.h"

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <string>
#include <utility>

namespace twofold::display {

Result<Rect> clip_update(const UntrustedUpdate& update, const FramebufferGeometry& geometry) {
    if (update.width <= 0 || update.height <= 0) {
        return Error{"update rectangle " + std::to_string(update.width) + "x" + std::to_string(update.height) +
                     " has no area"};
    }
    // 64-bit arithmetic: x + width cannot overflow from 32-bit inputs.
    const std::int64_t x0 = std::max<std::int64_t>(update.x, 0);
    const std::int64_t y0 = std::max<std::int64_t>(update.y, 0);
    const std::int64_t x1 = std::min<std::int64_t>(std::int64_t{update.x} + update.width, geometry.width);
    const std::int64_t y1 = std::min<std::int64_t>(std::int64_t{update.y} + update.height, geometry.height);
    if (x0 >= x1 || y0 >= y1) return Rect{};
    return Rect{static_cast<std::uint32_t>(x0), static_cast<std::uint32_t>(y0), static_cast<std::uint32_t>(x1 - x0),
                static_cast<std::uint32_t>(y1 - y0)};
}

Compositor::Compositor(DisplayTarget& target, std::uint32_t strip_height)
    : target_(target), strip_height_(strip_height) {
    if (strip_height == 0 || strip_height >= target.screen().height()) {
        throw std::invalid_argument("indicator strip height " + std::to_string(strip_height) +
                                    " leaves no content area");
    }
}

DisplayLimits Compositor::content_limits(std::size_t max_mem_length) const noexcept {
    const Rect area = content_area();
    return DisplayLimits{area.width, area.height, max_mem_length};
}

Rect Compositor::content_area() const noexcept {
    const Screen& screen = target_.screen();
    return Rect{0, strip_height_, screen.width(), screen.height() - strip_height_};
}

Compositor::Slot& Compositor::slot(PersonaId persona) {
    if (persona >= slots_.size()) throw std::out_of_range("unknown persona " + std::to_string(persona));
    return slots_[persona];
}

PersonaId Compositor::add_persona(PersonaLabel label) {
    slots_.push_back(Slot{std::move(label), nullptr, Rect{}});
    return slots_.size() - 1;
}

void Compositor::set_source(PersonaId persona, const GuestFramebuffer& framebuffer) {
    Slot& s = slot(persona);
    s.source = &framebuffer;
    s.dirty = Rect{0, 0, framebuffer.geometry().width, framebuffer.geometry().height};
}

void Compositor::clear_source(PersonaId persona) noexcept {
    if (persona >= slots_.size()) return;
    slots_[persona].source = nullptr;
    slots_[persona].dirty = Rect{};
    if (shown_ == persona && !shown_prompt_) content_stale_ = true;
}

void Compositor::mark_dirty(PersonaId persona, const Rect& rect) noexcept {
    if (persona >= slots_.size() || rect.empty()) return;
    Slot& s = slots_[persona];
    s.dirty = bounding_union(s.dirty, rect);
    if (shown_ != persona) ++stats_.background_updates;
}

void Compositor::switch_to(PersonaId persona, std::uint64_t epoch) {
    (void)slot(persona);
    pending_ = persona;
    pending_epoch_ = epoch;
    pending_prompt_.reset();
}

void Compositor::show_prompt(PersonaId persona, std::uint64_t epoch, PromptScreen prompt) {
    (void)slot(persona);
    pending_ = persona;
    pending_epoch_ = epoch;
    pending_prompt_ = std::move(prompt);
    prompt_epoch_ = epoch;
}

bool Compositor::update_prompt(std::uint64_t epoch, PromptScreen prompt) {
    if (epoch != prompt_epoch_) return false;
    if (pending_ && pending_prompt_) {
        pending_prompt_ = std::move(prompt); // not on screen yet: the frame that shows it has this
        return true;
    }
    if (!shown_prompt_ || pending_) return false; // a switch away from it is pending
    shown_prompt_ = std::move(prompt);
    prompt_dirty_ = true;
    return true;
}

bool Compositor::set_notice(PersonaId persona, bool mark) {
    Slot& s = slot(persona);
    if (s.notice == mark) return false;
    s.notice = mark;
    strip_dirty_ = true;
    return true;
}

bool Compositor::notice(PersonaId persona) const noexcept { return persona < slots_.size() && slots_[persona].notice; }

void Compositor::draw_strip(std::string_view caption) {
    Screen& screen = target_.screen();
    draw_indicator(screen, strip_height_, slots_[*shown_].label, caption);
    // Only another persona's notice: the one on screen needs no mark of its own.
    for (PersonaId p = 0; p < slots_.size(); ++p) {
        if (p != *shown_ && slots_[p].notice) draw_notice(screen, strip_height_, slots_[p].label);
    }
    strip_dirty_ = false;
}

std::optional<PresentedSwitch> Compositor::take_presented_switch() noexcept {
    return std::exchange(presented_switch_, std::nullopt);
}

bool Compositor::present() {
    Screen& screen = target_.screen();
    const Rect area = content_area();
    if (pending_ && pending_prompt_) {
        // The prompt replaces whatever was shown, strip and content, in one frame.
        shown_ = pending_;
        draw_strip(kPromptCaption);
        draw_prompt(screen, area, *pending_prompt_);
        shown_prompt_ = std::exchange(pending_prompt_, std::nullopt);
        pending_.reset();
        presented_switch_ = PresentedSwitch{*shown_, pending_epoch_};
        content_stale_ = false;
        prompt_dirty_ = false;
        ++stats_.switches;
        ++stats_.frames;
        target_.present(Rect{0, 0, screen.width(), screen.height()});
        return true;
    }
    if (pending_ && (pending_ != shown_ || shown_prompt_)) {
        // The whole new frame (strip and content) is composed before the single present().
        shown_ = pending_;
        Slot& s = slots_[*shown_];
        draw_strip();
        // Black wherever the new frame will not cover (all of it when there is no source);
        // skipped when the blit covers the whole area, so a switch costs one pass.
        const bool covers = s.source != nullptr && s.source->geometry().width >= area.width &&
                            s.source->geometry().height >= area.height;
        if (!covers) screen.fill(area, 0);
        if (s.source != nullptr) {
            blit(s, Rect{0, 0, s.source->geometry().width, s.source->geometry().height});
        }
        s.dirty = Rect{};
        pending_.reset();
        presented_switch_ = PresentedSwitch{*shown_, pending_epoch_};
        content_stale_ = false;
        shown_prompt_.reset();
        ++stats_.switches;
        ++stats_.frames;
        target_.present(Rect{0, 0, screen.width(), screen.height()});
        return true;
    }
    if (pending_) {
        // Already on screen with its indicator: the switch is complete as it stands.
        presented_switch_ = PresentedSwitch{*pending_, pending_epoch_};
        pending_.reset();
    }
    if (!shown_) return false;
    if (strip_dirty_) {
        draw_strip(shown_prompt_ ? std::string_view(kPromptCaption) : std::string_view{});
        ++stats_.frames;
        target_.present(Rect{0, 0, screen.width(), std::min(strip_height_, screen.height())});
        return true;
    }
    if (shown_prompt_) {
        // No guest pixel while the prompt is up; its updates wait (dirty) for the switch back.
        if (!prompt_dirty_) return false;
        draw_prompt(screen, area, *shown_prompt_);
        prompt_dirty_ = false;
        ++stats_.frames;
        target_.present(area);
        return true;
    }
    Slot& s = slots_[*shown_];
    if (content_stale_) {
        // The guest went away: its last pixels must not linger under its indicator forever.
        screen.fill(area, 0);
        content_stale_ = false;
        ++stats_.frames;
        target_.present(area);
        return true;
    }
    if (s.source == nullptr || s.dirty.empty()) return false;
    const Rect dirty = s.dirty;
    blit(s, dirty);
    s.dirty = Rect{};
    ++stats_.frames;
    target_.present(Rect{dirty.x, dirty.y + strip_height_, dirty.width, dirty.height});
    return true;
}

void Compositor::blit(const Slot& s, const Rect& rect) noexcept {
    const FramebufferGeometry& geometry = s.source->geometry();
    const Rect area = content_area();
    // Clip to the guest framebuffer and to the content area: whatever the geometry says, no
    // guest pixel can land outside the rows below the strip.
    const std::uint32_t max_w = std::min(geometry.width, area.width);
    const std::uint32_t max_h = std::min(geometry.height, area.height);
    if (rect.x >= max_w || rect.y >= max_h) return;
    const std::uint32_t w = std::min(rect.width, max_w - rect.x);
    const std::uint32_t h = std::min(rect.height, max_h - rect.y);
    const std::byte* src = s.source->pixels().data();
    Screen& screen = target_.screen();
    auto* dst = reinterpret_cast<std::byte*>(screen.pixels().data());
    const std::size_t dst_stride = screen.stride_bytes();
    const std::size_t src_stride = geometry.line_length;
    const std::size_t row_bytes = std::size_t{w} * kBytesPerPixel;
    const std::size_t src_start = std::size_t{rect.y} * src_stride + std::size_t{rect.x} * kBytesPerPixel;
    const std::size_t dst_start =
        (std::size_t{area.y} + rect.y) * dst_stride + std::size_t{rect.x} * kBytesPerPixel;
    // Pixels are copied with plain memcpy although the guest may be writing them: they are
    // never interpreted, a torn pixel only shows as a torn pixel, and every address comes
    // from our private geometry. The last byte read is at most line_length*height <= mem_length.
    if (row_bytes == src_stride && row_bytes == dst_stride) {
        std::memcpy(dst + dst_start, src + src_start, row_bytes * h);
        return;
    }
    for (std::uint32_t row = 0; row < h; ++row) {
        std::memcpy(dst + dst_start + row * dst_stride, src + src_start + row * src_stride, row_bytes);
    }
}

} // namespace twofold::display
