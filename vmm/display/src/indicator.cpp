#include "twofold/display/indicator.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <string>

namespace twofold::display {

namespace {

constexpr std::size_t kMaxLabelChars = 40;

struct Glyph {
    char c;
    std::array<std::uint8_t, kGlyphHeight> rows; // bit 4 is the leftmost column
};

// A 5x7 font for the characters a label needs; anything else is drawn as '?'.
constexpr std::array kFont{
    Glyph{'A', {0x0E, 0x11, 0x11, 0x1F, 0x11, 0x11, 0x11}}, Glyph{'B', {0x1E, 0x11, 0x11, 0x1E, 0x11, 0x11, 0x1E}},
    Glyph{'C', {0x0E, 0x11, 0x10, 0x10, 0x10, 0x11, 0x0E}}, Glyph{'D', {0x1E, 0x11, 0x11, 0x11, 0x11, 0x11, 0x1E}},
    Glyph{'E', {0x1F, 0x10, 0x10, 0x1E, 0x10, 0x10, 0x1F}}, Glyph{'F', {0x1F, 0x10, 0x10, 0x1E, 0x10, 0x10, 0x10}},
    Glyph{'G', {0x0E, 0x11, 0x10, 0x17, 0x11, 0x11, 0x0F}}, Glyph{'H', {0x11, 0x11, 0x11, 0x1F, 0x11, 0x11, 0x11}},
    Glyph{'I', {0x0E, 0x04, 0x04, 0x04, 0x04, 0x04, 0x0E}}, Glyph{'J', {0x07, 0x02, 0x02, 0x02, 0x02, 0x12, 0x0C}},
    Glyph{'K', {0x11, 0x12, 0x14, 0x18, 0x14, 0x12, 0x11}}, Glyph{'L', {0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x1F}},
    Glyph{'M', {0x11, 0x1B, 0x15, 0x15, 0x11, 0x11, 0x11}}, Glyph{'N', {0x11, 0x11, 0x19, 0x15, 0x13, 0x11, 0x11}},
    Glyph{'O', {0x0E, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0E}}, Glyph{'P', {0x1E, 0x11, 0x11, 0x1E, 0x10, 0x10, 0x10}},
    Glyph{'Q', {0x0E, 0x11, 0x11, 0x11, 0x15, 0x12, 0x0D}}, Glyph{'R', {0x1E, 0x11, 0x11, 0x1E, 0x14, 0x12, 0x11}},
    Glyph{'S', {0x0F, 0x10, 0x10, 0x0E, 0x01, 0x01, 0x1E}}, Glyph{'T', {0x1F, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04}},
    Glyph{'U', {0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0E}}, Glyph{'V', {0x11, 0x11, 0x11, 0x11, 0x11, 0x0A, 0x04}},
    Glyph{'W', {0x11, 0x11, 0x11, 0x15, 0x15, 0x15, 0x0A}}, Glyph{'X', {0x11, 0x11, 0x0A, 0x04, 0x0A, 0x11, 0x11}},
    Glyph{'Y', {0x11, 0x11, 0x11, 0x0A, 0x04, 0x04, 0x04}}, Glyph{'Z', {0x1F, 0x01, 0x02, 0x04, 0x08, 0x10, 0x1F}},
    Glyph{'0', {0x0E, 0x11, 0x13, 0x15, 0x19, 0x11, 0x0E}}, Glyph{'1', {0x04, 0x0C, 0x04, 0x04, 0x04, 0x04, 0x0E}},
    Glyph{'2', {0x0E, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1F}}, Glyph{'3', {0x1F, 0x02, 0x04, 0x02, 0x01, 0x11, 0x0E}},
    Glyph{'4', {0x02, 0x06, 0x0A, 0x12, 0x1F, 0x02, 0x02}}, Glyph{'5', {0x1F, 0x10, 0x1E, 0x01, 0x01, 0x11, 0x0E}},
    Glyph{'6', {0x06, 0x08, 0x10, 0x1E, 0x11, 0x11, 0x0E}}, Glyph{'7', {0x1F, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08}},
    Glyph{'8', {0x0E, 0x11, 0x11, 0x0E, 0x11, 0x11, 0x0E}}, Glyph{'9', {0x0E, 0x11, 0x11, 0x0F, 0x01, 0x02, 0x0C}},
    Glyph{'-', {0x00, 0x00, 0x00, 0x1F, 0x00, 0x00, 0x00}}, Glyph{'.', {0x00, 0x00, 0x00, 0x00, 0x00, 0x0C, 0x0C}},
    Glyph{'_', {0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x1F}}, Glyph{':', {0x00, 0x0C, 0x0C, 0x00, 0x0C, 0x0C, 0x00}}, Glyph{' ', {0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00}},
    Glyph{'?', {0x0E, 0x11, 0x01, 0x02, 0x04, 0x00, 0x04}},
};

const Glyph& glyph_for(char c) noexcept {
    for (const Glyph& glyph : kFont) {
        if (glyph.c == c) return glyph;
    }
    return kFont.back();
}

} // namespace

std::uint32_t strip_colour(Trust trust) noexcept {
    return trust == Trust::Secure ? kSecureStripColour : kPersonalStripColour;
}

std::string_view to_string(Trust trust) noexcept { return trust == Trust::Secure ? "SECURE" : "PERSONAL"; }

std::string indicator_text(const PersonaLabel& label, std::string_view caption) {
    std::string text(to_string(label.trust));
    text += " - ";
    for (char c : caption.empty() ? std::string_view(label.name) : caption) {
        const auto upper = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        text += glyph_for(upper).c == upper ? upper : '?';
    }
    if (text.size() > kMaxLabelChars) text.resize(kMaxLabelChars);
    return text;
}

void draw_text(Screen& screen, const Rect& clip, std::uint32_t left, std::uint32_t top, std::uint32_t scale,
               std::string_view text, std::uint32_t colour) {
    const std::uint64_t clip_right = std::uint64_t{clip.x} + clip.width;
    const std::uint64_t clip_bottom = std::uint64_t{clip.y} + clip.height;
    if (scale == 0 || left < clip.x || top < clip.y || top + std::uint64_t{kGlyphHeight} * scale > clip_bottom) return;
    const std::uint32_t advance = (kGlyphWidth + 1) * scale;
    std::uint64_t x = left;
    for (const char c : text) {
        if (x + std::uint64_t{kGlyphWidth} * scale > clip_right) break;
        const Glyph& glyph = glyph_for(c);
        for (std::uint32_t gy = 0; gy < kGlyphHeight; ++gy) {
            for (std::uint32_t gx = 0; gx < kGlyphWidth; ++gx) {
                if ((static_cast<std::uint32_t>(glyph.rows[gy]) >> (kGlyphWidth - 1 - gx)) & 1U) {
                    screen.fill(Rect{static_cast<std::uint32_t>(x) + gx * scale, top + gy * scale, scale, scale}, colour);
                }
            }
        }
        x += advance;
    }
}

void draw_indicator(Screen& screen, std::uint32_t strip_height, const PersonaLabel& label, std::string_view caption) {
    const std::uint32_t height = std::min(strip_height, screen.height());
    const Rect strip{0, 0, screen.width(), height};
    screen.fill(strip, strip_colour(label.trust));
    // Largest whole scale that leaves a margin above and below the glyphs.
    const std::uint32_t scale = std::max<std::uint32_t>(1, height / (kGlyphHeight + 4));
    if (height < kGlyphHeight * scale) return;
    draw_text(screen, strip, 2 * scale, (height - kGlyphHeight * scale) / 2, scale, indicator_text(label, caption),
              kIndicatorTextColour);
}

void draw_notice(Screen& screen, std::uint32_t strip_height, const PersonaLabel& from) {
    const std::uint32_t height = std::min(strip_height, screen.height());
    const std::uint32_t scale = std::max<std::uint32_t>(1, height / (kGlyphHeight + 4));
    if (height < kGlyphHeight * scale) return;
    const std::string text = std::string(to_string(from.trust)) + std::string(kNoticeText);
    const auto chars = static_cast<std::uint32_t>(text.size());
    const std::uint32_t text_width = chars * (kGlyphWidth + 1) * scale;
    const std::uint32_t margin = 2 * scale;
    const std::uint32_t box_width = text_width + 2 * margin;
    if (box_width >= screen.width()) return;
    // A box of the notifying persona's colour, inset by one scale step so it reads as a mark
    // on the foreground's strip rather than as a second strip.
    const Rect box{screen.width() - box_width - margin, scale, box_width, height - 2 * scale};
    screen.fill(box, strip_colour(from.trust));
    draw_text(screen, box, box.x + margin, (height - kGlyphHeight * scale) / 2, scale, text, kIndicatorTextColour);
}

} // namespace twofold::display
