#include "twofold/display/pin_prompt.h"

#include <algorithm>

#include "twofold/display/indicator.h"

namespace twofold::display {

Rect prompt_dot(const Rect& area, std::uint32_t index) noexcept {
    const std::uint32_t row_width = kPromptSlots * kPromptDotPitch;
    const std::uint32_t left = area.x + (area.width > row_width ? (area.width - row_width) / 2 : 0) +
                               (kPromptDotPitch - kPromptDotSize) / 2;
    return Rect{left + index * kPromptDotPitch, area.y + area.height / 3, kPromptDotSize, kPromptDotSize};
}

std::uint32_t prompt_message_top(const Rect& area) noexcept { return area.y + area.height * 2 / 3; }

namespace {

// Centred in `area` (left-aligned when wider than it; draw_text clips).
void centred_text(Screen& screen, const Rect& area, std::uint32_t top, std::uint32_t scale, std::string_view text,
                  std::uint32_t colour) {
    const std::uint32_t width = text_width(text.size(), scale);
    const std::uint32_t left = area.x + (area.width > width ? (area.width - width) / 2 : 0);
    draw_text(screen, area, left, top, scale, text, colour);
}

} // namespace

void draw_prompt(Screen& screen, const Rect& area, const PromptScreen& prompt) {
    screen.fill(area, kPromptBackground);
    const std::uint64_t right = std::uint64_t{area.x} + area.width;
    const std::uint64_t bottom = std::uint64_t{area.y} + area.height;
    for (std::uint32_t i = 0; i < kPromptSlots; ++i) {
        const Rect dot = prompt_dot(area, i);
        if (dot.x + std::uint64_t{dot.width} > right || dot.y + std::uint64_t{dot.height} + 8 > bottom) break;
        if (i < prompt.dots) screen.fill(dot, kPromptDotColour);
        screen.fill(Rect{dot.x, dot.y + dot.height + 4, dot.width, 4}, kPromptSlotColour);
    }
    centred_text(screen, area, prompt_message_top(area), kPromptMessageScale, prompt.message, kPromptMessageColour);
    const std::uint32_t hint_top = prompt_message_top(area) + (kGlyphHeight + 6) * kPromptMessageScale;
    centred_text(screen, area, hint_top, kPromptHintScale, kPromptHint, kPromptHintColour);
}

} // namespace twofold::display
