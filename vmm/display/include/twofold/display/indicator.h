#pragma once
// The secure indicator: a strip at the top of the screen, drawn only by dom0, naming the
// foreground persona and its trust level. No guest pixel is ever written into it (the
// compositor's content area starts below it), so a guest cannot draw a fake one.
#include <cstdint>
#include <string>
#include <string_view>

#include "twofold/display/screen.h"

namespace twofold::display {

enum class Trust : std::uint8_t { Personal, Secure };

struct PersonaLabel {
    std::string name; // from the policy (dom0's own data, still drawn defensively)
    Trust trust = Trust::Personal;
};

inline constexpr std::uint32_t kSecureStripColour = 0x00C8102E;   // red
inline constexpr std::uint32_t kPersonalStripColour = 0x00585858; // grey
inline constexpr std::uint32_t kIndicatorTextColour = 0x00FFFFFF;
// Tall enough for a scale-4 glyph row on a phone panel; the lab's 800x600 uses it too.
inline constexpr std::uint32_t kDefaultStripHeight = 48;

[[nodiscard]] std::uint32_t strip_colour(Trust trust) noexcept;
[[nodiscard]] std::string_view to_string(Trust trust) noexcept;
// "SECURE - BANKING": upper-case, characters outside the font shown as '?', bounded length.
// A caption replaces the name: "SECURE - ENTER PIN" over dom0's PIN prompt.
[[nodiscard]] std::string indicator_text(const PersonaLabel& label, std::string_view caption = {});

// Draws the strip into rows [0, strip_height) of the screen and nothing else.
void draw_indicator(Screen& screen, std::uint32_t strip_height, const PersonaLabel& label, std::string_view caption = {});
// The mark of a background persona's notice, right-aligned on the strip in that persona's
// colour: "SECURE: NEW MESSAGE". Content-free by construction: the text is fixed.
inline constexpr std::string_view kNoticeText = ": NEW MESSAGE";
void draw_notice(Screen& screen, std::uint32_t strip_height, const PersonaLabel& from);

// dom0's 5x7 font, each glyph cell (5 + 1) * scale wide and 7 * scale high.
inline constexpr std::uint32_t kGlyphWidth = 5;
inline constexpr std::uint32_t kGlyphHeight = 7;
[[nodiscard]] constexpr std::uint32_t text_width(std::size_t chars, std::uint32_t scale) noexcept {
    return chars == 0 ? 0 : static_cast<std::uint32_t>(chars) * (kGlyphWidth + 1) * scale - scale;
}
// Draws `text` (upper-case it first; other characters show as '?') with its top left corner
// at (left, top), clipped to `clip`: glyphs that would not fit whole are not drawn.
void draw_text(Screen& screen, const Rect& clip, std::uint32_t left, std::uint32_t top, std::uint32_t scale,
               std::string_view text, std::uint32_t colour);

} // namespace twofold::display
