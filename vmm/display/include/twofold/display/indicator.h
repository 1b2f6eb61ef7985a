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
[[nodiscard]] std::string indicator_text(const PersonaLabel& label);

// Draws the strip into rows [0, strip_height) of the screen and nothing else.
void draw_indicator(Screen& screen, std::uint32_t strip_height, const PersonaLabel& label);

} // namespace twofold::display
