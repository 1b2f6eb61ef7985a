#pragma once
// dom0's PIN prompt, drawn in the content area (below the strip, which then reads "SECURE -
// ENTER PIN"): one dot per digit typed, a status line, and a hint. Every pixel is dom0's; no
// guest pixel is on screen while it is up, so a guest can neither read the dots nor draw a
// fake prompt (a fake one has no red strip over it: the strip is dom0's alone).
// The board test reads these positions back from QEMU's screen dump
// (vmm/display/tools/check-screendump, "prompt").
#include <cstdint>
#include <string>

#include "twofold/display/screen.h"

namespace twofold::display {

struct PromptScreen {
    std::uint32_t dots = 0;  // digits typed so far
    std::string message;     // validated on the focus link: A-Z, 0-9, space, "-.:"
    friend bool operator==(const PromptScreen&, const PromptScreen&) = default;
};

inline constexpr std::uint32_t kPromptBackground = 0x00101830;
inline constexpr std::uint32_t kPromptDotColour = 0x00FFFFFF;
inline constexpr std::uint32_t kPromptSlotColour = 0x00404860;   // the underline of each place
inline constexpr std::uint32_t kPromptMessageColour = 0x00FFD000;
inline constexpr std::uint32_t kPromptHintColour = 0x00A0A0A0;
inline constexpr std::uint32_t kPromptDotSize = 24;
inline constexpr std::uint32_t kPromptDotPitch = 40;
inline constexpr std::uint32_t kPromptSlots = 16;                // dots beyond it are not drawn
inline constexpr std::uint32_t kPromptMessageScale = 3;
inline constexpr std::uint32_t kPromptHintScale = 2;
inline constexpr const char* kPromptCaption = "ENTER PIN";
inline constexpr const char* kPromptHint = "DIGITS - ENTER: OK - ESC: CANCEL";

// Where dot `index` goes in `area` (the row at a third of its height, centred for kPromptSlots
// places; narrower areas start at their left edge), and the message's top row (two thirds).
[[nodiscard]] Rect prompt_dot(const Rect& area, std::uint32_t index) noexcept;
[[nodiscard]] std::uint32_t prompt_message_top(const Rect& area) noexcept;

// Fills `area` and draws the prompt into it, and nothing outside it.
void draw_prompt(Screen& screen, const Rect& area, const PromptScreen& prompt);

} // namespace twofold::display
