#pragma once
// Presents only the foreground persona: dom0's indicator strip on top, the persona's guest
// framebuffer below it (one copy per pixel, from the read-only mapping to the screen).
// Background personas' updates are recorded as dirty but never drawn. A switch draws the new
// indicator and the new persona's whole current frame into the screen before the one
// present() that shows them, so no presented frame mixes one persona's pixels with the
// other's indicator. Single-threaded: the backend's io_context owns it.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "twofold/display/geometry.h"
#include "twofold/display/guest_framebuffer.h"
#include "twofold/display/indicator.h"
#include "twofold/display/pin_prompt.h"
#include "twofold/display/screen.h"

namespace twofold::display {

using PersonaId = std::size_t;

// An update rectangle as the guest sent it (struct xenfb_update), still untrusted.
struct UntrustedUpdate {
    std::int32_t x = 0;
    std::int32_t y = 0;
    std::int32_t width = 0;
    std::int32_t height = 0;
};

// Clips the guest's rectangle to its framebuffer. Negative or zero sizes are an Error; a
// rectangle entirely outside the framebuffer clips to an empty Rect (nothing to draw).
Result<Rect> clip_update(const UntrustedUpdate& update, const FramebufferGeometry& geometry);

// A switch the screen now shows: the backend acknowledges it to the manager with this epoch
// (foreground.h's SendFocus), only after the frame with the new indicator was presented.
struct PresentedSwitch {
    PersonaId persona{};
    std::uint64_t epoch = 0;
    friend bool operator==(const PresentedSwitch&, const PresentedSwitch&) = default;
};

struct PresentStats {
    std::size_t frames = 0;
    std::size_t switches = 0;
    std::size_t background_updates = 0; // recorded, never displayed
};

class Compositor {
public:
    // Throws std::invalid_argument if the strip leaves no content area (configuration error).
    Compositor(DisplayTarget& target, std::uint32_t strip_height = kDefaultStripHeight);

    // The mode guests are offered: the screen less the strip; `max_mem_length` per guest.
    [[nodiscard]] DisplayLimits content_limits(std::size_t max_mem_length) const noexcept;
    [[nodiscard]] std::uint32_t strip_height() const noexcept { return strip_height_; }

    PersonaId add_persona(PersonaLabel label);
    // The framebuffer must stay mapped until clear_source() (the vfb device calls it from
    // on_closing()). Setting a source marks the whole frame dirty.
    void set_source(PersonaId persona, const GuestFramebuffer& framebuffer);
    void clear_source(PersonaId persona) noexcept;
    // A validated, clipped rectangle of the persona's framebuffer changed.
    void mark_dirty(PersonaId persona, const Rect& rect) noexcept;
    // Takes effect at the next present(); a later call before it supersedes this one.
    void switch_to(PersonaId persona, std::uint64_t epoch = 0);
    // dom0's PIN prompt for `persona`: at the next present(), its indicator reads "ENTER PIN" and
    // the content area shows the prompt, no guest pixel, until the next switch_to(). Completes
    // like a switch (take_presented_switch), always with a new frame.
    void show_prompt(PersonaId persona, std::uint64_t epoch, PromptScreen prompt);
    // A redraw of the prompt of `epoch` (shown or pending); false (nothing changes) otherwise.
    bool update_prompt(std::uint64_t epoch, PromptScreen prompt);
    [[nodiscard]] bool prompt_shown() const noexcept { return shown_prompt_.has_value(); }
    // A background persona's content-free notice (the manager's "notice" order): while set,
    // the strip of whichever other persona is shown carries "<TRUST>: NEW MESSAGE". False when
    // nothing changed.
    bool set_notice(PersonaId persona, bool mark);
    [[nodiscard]] bool notice(PersonaId persona) const noexcept;
    // The switch completed by the last present() (once; nullopt otherwise). Switching to the
    // persona already shown completes at the next present() without a new frame.
    [[nodiscard]] std::optional<PresentedSwitch> take_presented_switch() noexcept;

    // Composes and presents what changed; true when a frame was presented.
    bool present();

    [[nodiscard]] std::optional<PersonaId> foreground() const noexcept { return shown_; }
    [[nodiscard]] const PresentStats& stats() const noexcept { return stats_; }

private:
    struct Slot {
        PersonaLabel label;
        const GuestFramebuffer* source = nullptr;
        Rect dirty;
        bool notice = false;
    };
    void blit(const Slot& slot, const Rect& rect) noexcept;
    void draw_strip(std::string_view caption = {});
    [[nodiscard]] Rect content_area() const noexcept;
    Slot& slot(PersonaId persona);

    DisplayTarget& target_;
    std::uint32_t strip_height_;
    std::vector<Slot> slots_;
    std::optional<PersonaId> shown_;
    std::optional<PersonaId> pending_;
    std::uint64_t pending_epoch_ = 0;
    std::optional<PresentedSwitch> presented_switch_;
    std::optional<PromptScreen> pending_prompt_; // with pending_: the switch is to the prompt
    std::optional<PromptScreen> shown_prompt_;   // the prompt is on screen instead of the guest
    std::uint64_t prompt_epoch_ = 0;             // of the prompt shown or pending
    bool prompt_dirty_ = false;
    bool content_stale_ = false; // the shown persona's source went away
    bool strip_dirty_ = false;   // a notice changed: the strip is drawn again at the next present
    PresentStats stats_;
};

} // namespace twofold::display
