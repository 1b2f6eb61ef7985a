#pragma once
// Routes translated input to the foreground persona only. The manager decides the foreground;
// the router applies it: at a switch it first releases, in the old persona, every key and
// contact that guest holds, and only then lets the new persona have input. Background
// personas get nothing. The hardware switch key never reaches any guest. Releases and motion
// for keys or contacts the receiving guest does not hold are dropped (a finger that stays down
// across a switch does not start a phantom touch in the new persona). A full ring drops the
// event, counts it and logs at most once a second: the router never blocks.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include <spdlog/logger.h>

#include "twofold/focus/focus_protocol.h"
#include "twofold/input/events.h"
#include "twofold/input/held_input.h"

namespace twofold::input {

using PersonaId = std::size_t;

enum class PushResult : std::uint8_t {
    Delivered,
    Full,        // the guest has not consumed its ring: dropped
    NotWanted,   // the guest did not request this kind (abs pointer, multi-touch): dropped
    Broken,      // the guest's ring indices are impossible: dropped, its connection is closing
};

// A persona's connected vkbd frontend, as the router sees it.
class GuestInput {
public:
    virtual ~GuestInput() = default;
    virtual PushResult push(const GuestEvent& event) = 0;
    // Notifies the guest once after a batch of pushes.
    virtual void flush() = 0;
};

struct RouterCounters {
    std::size_t delivered = 0;
    std::size_t dropped_full = 0;
    std::size_t dropped_not_wanted = 0;
    std::size_t dropped_broken = 0;
    std::size_t dropped_switch_key = 0;
    std::size_t dropped_no_foreground = 0; // no foreground yet, or its guest is not connected
    std::size_t dropped_not_held = 0;      // release/motion for something the guest does not hold
    std::size_t released_at_switch = 0;
    std::size_t releases_deferred = 0;     // owed releases a full ring could not take at once
    std::size_t prompt_keys = 0;           // keys given to dom0's PIN prompt (the manager)
    std::size_t dropped_in_prompt = 0;     // everything else while the prompt holds input
};

// The keys dom0's PIN prompt takes (digits of both rows, backspace, enter, escape = cancel);
// nullopt for every other key.
[[nodiscard]] std::optional<focus::PromptKey> prompt_key_of(std::uint32_t code) noexcept;

struct SwitchReleases {
    std::size_t keys = 0;
    std::size_t contacts = 0;
};

// Log lines for a condition a guest can repeat at will: the first, then at most one per period.
class RateLimiter {
public:
    explicit RateLimiter(std::chrono::steady_clock::duration period) : period_(period) {}
    [[nodiscard]] bool allow(std::chrono::steady_clock::time_point now) noexcept;

private:
    std::chrono::steady_clock::duration period_;
    std::optional<std::chrono::steady_clock::time_point> last_;
};

// Where a persona's vkbd frontend reports that it connected, went away, or consumed its ring:
// the router itself in a single-process backend, the link to the input owner in a
// per-persona vkbd writer (vkbd_writer.h).
class GuestAttachments {
public:
    virtual ~GuestAttachments() = default;
    virtual void attach(PersonaId persona, GuestInput& guest) = 0;
    virtual void detach(PersonaId persona, const GuestInput& guest) noexcept = 0;
    virtual void guest_ready(PersonaId persona, const GuestInput& guest) = 0;
};

class InputRouter final : public GuestAttachments {
public:
    // Where a key typed into dom0's PIN prompt goes (the focus link to the manager). Never
    // logged: the keys are the officer's PIN.
    using PromptSink = std::function<void(focus::PromptKey)>;

    InputRouter(std::size_t persona_count, std::uint32_t switch_key, std::shared_ptr<spdlog::logger> log,
                PromptSink prompt_sink = {});

    // A persona's frontend connected (replaces an earlier one of the same persona, e.g. after
    // the guest rebooted) or went away. Detach only acts if `guest` is still the attached one.
    void attach(PersonaId persona, GuestInput& guest) override;
    void detach(PersonaId persona, const GuestInput& guest) noexcept override;
    [[nodiscard]] bool attached(PersonaId persona) const;

    void route(std::span<const GuestEvent> events);
    // The persona's guest consumed events: releases a full ring kept back at a switch go now.
    void guest_ready(PersonaId persona, const GuestInput& guest) override;
    // Releases what the old foreground holds (delivered to it before this returns), then
    // makes `persona` (or nobody) the foreground.
    SwitchReleases switch_to(std::optional<PersonaId> persona);
    // dom0's PIN prompt holds input: what the old foreground holds is released to it, as at any
    // switch; then no guest gets anything and each key press of prompt_key_of() goes to the
    // sink, until the next switch_to(). Keys still held when the prompt ends are held by no
    // guest, so their releases are dropped there (not-held) rather than delivered.
    SwitchReleases switch_to_prompt();

    [[nodiscard]] std::optional<PersonaId> foreground() const noexcept { return foreground_; }
    [[nodiscard]] bool prompt() const noexcept { return prompt_; }
    [[nodiscard]] const HeldInput& held(PersonaId persona) const { return personas_.at(persona).held; }
    [[nodiscard]] const RouterCounters& counters() const noexcept { return counters_; }

private:
    struct Persona {
        GuestInput* guest = nullptr;
        HeldInput held;
        // Releases owed to this guest from a switch that found its ring full, in order.
        std::vector<GuestEvent> pending_releases;
    };

    // Pushes owed releases; true when none remain.
    bool push_pending(Persona& persona);

    bool admit(const Persona& persona, const GuestEvent& event, bool& touch_in_frame);
    void deliver(Persona& persona, const GuestEvent& event);
    void note_full();

    std::vector<Persona> personas_;
    std::uint32_t switch_key_;
    std::shared_ptr<spdlog::logger> log_;
    void route_to_prompt(std::span<const GuestEvent> events);

    PromptSink prompt_sink_;
    std::optional<PersonaId> foreground_;
    bool prompt_ = false;
    RouterCounters counters_;
    RateLimiter full_log_{std::chrono::seconds(1)};
};

} // namespace twofold::input
