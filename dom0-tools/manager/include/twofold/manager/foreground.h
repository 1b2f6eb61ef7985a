#pragma once
// The foreground state machine: exactly one persona is in the foreground, and a switch moves
// display, input and modem audio focus together or not at all. The machine is pure: it is
// fed requests, acknowledgements and timeouts, and answers with the commands to send. The
// manager's event loop does the I/O and the timing.
//
// A switch runs in up to three phases, each with its own epoch and timeout, so that no key or
// touch ever reaches a persona while the other persona's indicator can be on screen:
//   1. detach:  input goes to nobody                        (the input backend acks)
//   2. present: the display presents the new persona        (the display backend acks)
//   3. attach:  input and modem audio go to the new persona (their backends ack)
// The invariant: input is ordered to a persona only when the display cannot be showing the
// other one, and the display is ordered to a persona only when input cannot be reaching the
// other one. "Cannot" is judged on what each holder may be doing (FocusLedger: its last
// acknowledged order plus every order still unanswered, since a timed-out order may still be
// applied), not on what the last phase hoped for. Each phase is chosen from that knowledge
// (plan()), so a switch skips what is already in place and repeats what is uncertain.
// A failure rolls back the same way toward the old persona. When the rollback fails too,
// input is "parked": the screen shows whatever the display last presented (one persona's
// indicator, or nothing if the display backend died), keys and touches reach nobody (or,
// at worst, the persona on screen), and the next switch request or a backend's return runs the
// phases again.
//
// dom0's PIN prompt is a third place, besides the two personas: a switch to it runs the same
// phases (input to nobody, the display shows the prompt, input to the prompt, i.e. to the
// manager), so no key typed into the prompt can reach a guest and no guest can have input while
// the prompt is on screen. foreground() stays the persona the prompt was opened from: leaving
// the prompt (cancel, the switch key) is a switch back to it.
#include <chrono>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "twofold/manager/focus_ledger.h"

namespace twofold::manager {

enum class SwitchSource : std::uint8_t { HardwareKey, Cli, Recovery, PinPrompt };

// The prompt's name as a focus place, in SendFocus and the ledger. Not a valid persona name
// (those start with a letter), so no policy persona can be mistaken for it.
inline constexpr std::string_view kPinPromptPlace = "@pin-prompt";

struct SwitchRequest {
    std::optional<std::string> target; // nullopt: toggle to the other persona
    SwitchSource source{SwitchSource::Cli};
};

// Commands the machine asks the manager to carry out.
struct SendFocus {
    FocusHolder holder;
    // nullopt: route to nobody (only ever sent to Input); kPinPromptPlace: dom0's PIN prompt
    // (only ever sent to Display and Input).
    std::optional<std::string> persona;
    std::uint64_t epoch; // acks carry it back, so a late ack of an old switch is ignored
};
struct ArmTimeout {
    std::uint64_t epoch;
};
struct SwitchCommitted {
    std::string from;
    std::string to;
    std::uint64_t epoch;
    SwitchSource source;
};
struct SwitchAborted {
    std::string kept; // the persona that stays in the foreground
    std::string wanted;
    std::uint64_t epoch;
    std::string reason;
    bool input_parked = false; // the rollback failed too: input was left with nobody
};
using Command = std::variant<SendFocus, ArmTimeout, SwitchCommitted, SwitchAborted>;

// The phases of a switch, in order.
enum class SwitchPhase : std::uint8_t { Detach, Present, Attach };

enum class RequestOutcome : std::uint8_t {
    Started,        // a switch is now in flight
    Queued,         // a switch is in flight; this one runs when it ends (replaces older queued)
    AlreadyThere,   // the target already is (or is becoming) the foreground
    UnknownPersona, // the request names no persona of the policy
};

class ForegroundStateMachine {
public:
    // personas: exactly two distinct names; initial: one of them. With no holders (no
    // backend configured) a switch commits at once.
    ForegroundStateMachine(std::vector<std::string> personas, std::string initial,
                           std::set<FocusHolder> holders);

    [[nodiscard]] const std::string& foreground() const noexcept { return foreground_; }
    [[nodiscard]] bool switching() const noexcept { return in_flight_.has_value(); }
    [[nodiscard]] std::optional<std::string> switching_to() const;
    [[nodiscard]] std::optional<std::string> queued() const { return queued_; }
    [[nodiscard]] std::uint64_t epoch() const noexcept { return epoch_; }
    [[nodiscard]] std::optional<SwitchPhase> phase() const;
    // Input was left with nobody by a switch whose rollback could not be confirmed; the next
    // request (even for the foreground) or a holder registering runs the phases again.
    [[nodiscard]] bool input_parked() const noexcept { return parked_; }
    // The prompt is on screen and has input (the last switch committed to it).
    [[nodiscard]] bool at_prompt() const noexcept { return at_prompt_ && !in_flight_; }
    // Where the device is: the foreground persona, or kPinPromptPlace.
    [[nodiscard]] std::string place() const { return at_prompt_ ? std::string(kPinPromptPlace) : foreground_; }
    // The input backend may be routing to the prompt (an order to it acked or unanswered): keys
    // from it are expected, though only at_prompt() acts on them.
    [[nodiscard]] bool input_may_be_at_prompt() const;
    // Where a toggle (the switch key) would go now: the other persona, or back from the prompt.
    [[nodiscard]] std::string toggle_target() const;

    RequestOutcome request(const SwitchRequest& req, std::vector<Command>& out);
    // Opens dom0's PIN prompt (a switch to kPinPromptPlace).
    RequestOutcome request_prompt(SwitchSource source, std::vector<Command>& out);
    // A backend confirms it presents / routes to `persona` for `epoch`.
    void acknowledge(FocusHolder holder, std::uint64_t epoch, std::vector<Command>& out);
    // A backend refused or failed: the whole switch is rolled back.
    void refuse(FocusHolder holder, std::uint64_t epoch, const std::string& reason, std::vector<Command>& out);
    void timeout(std::uint64_t epoch, std::vector<Command>& out);

    // A backend (re)started and announced `holder` (it presents / routes nothing yet). It is
    // told what the current phase allows (input: nobody before the attach phase; the display:
    // nothing before the present phase) and awaited if the phase waits for its kind. Idle, it
    // is told the foreground when that is safe, else (and with input parked) the phases are
    // run again toward the foreground.
    void register_holder(FocusHolder holder, std::vector<Command>& out);
    // The backend serving `holder` died. No switch may wait for it: a switch still awaiting it
    // is aborted and rolled back on the remaining holders (together or not at all; the restarted
    // backend is told the foreground when it registers again). A rollback in progress simply
    // stops waiting for it.
    void unregister_holder(FocusHolder holder, std::vector<Command>& out);
    [[nodiscard]] const std::set<FocusHolder>& holders() const noexcept { return holders_; }

private:
    struct InFlight {
        std::string from;
        std::string to;
        std::uint64_t epoch;
        SwitchSource source;
        SwitchPhase phase = SwitchPhase::Detach;
        std::set<FocusHolder> awaiting;
        bool rolling_back = false;
        std::string abort_reason;
    };

    [[nodiscard]] bool known(const std::string& persona) const;
    RequestOutcome request_to(const std::string& target_or_toggle, bool toggle, SwitchSource source, std::vector<Command>& out);
    // The persona a place stands for where only personas make sense (modem audio): the prompt
    // stands for the foreground it was opened from.
    [[nodiscard]] const std::string& persona_of(const std::string& place) const;
    [[nodiscard]] const std::string& other_than(const std::string& persona) const;
    // Where the phases in flight are heading: the target, or the old persona when rolling back.
    [[nodiscard]] const std::string& heading() const;
    // What `holder` is told in `phase` of a move toward heading() (outer nullopt: nothing), and
    // whether that phase waits for its answer.
    [[nodiscard]] std::optional<FocusLedger::State> order_for(FocusHolder holder, SwitchPhase phase) const;
    [[nodiscard]] static bool waits_in(FocusHolder holder, SwitchPhase phase) noexcept;
    // The invariant, for one order about to be sent.
    [[nodiscard]] bool safe_to_send(FocusHolder holder, const FocusLedger::State& state) const;
    void send(FocusHolder holder, const FocusLedger::State& state, std::uint64_t epoch, std::vector<Command>& out);
    void start(const std::string& to, SwitchSource source, std::vector<Command>& out);
    // Chooses the next phase toward heading() from what the holders may be doing, or finishes
    // when every registered holder is known to be there.
    void plan(std::vector<Command>& out);
    // Enters `phase` with a new epoch: sends its orders and arms its timeout.
    void enter(SwitchPhase phase, std::vector<Command>& out);
    void abort(const std::string& reason, std::vector<Command>& out);
    void finish(std::vector<Command>& out);
    void start_queued(std::vector<Command>& out);

    std::vector<std::string> personas_;
    std::set<FocusHolder> holders_;
    FocusLedger ledger_;
    std::string foreground_;
    std::optional<InFlight> in_flight_;
    std::optional<std::string> queued_;
    SwitchSource queued_source_{SwitchSource::Cli};
    std::uint64_t epoch_ = 0;
    bool parked_ = false;
    bool at_prompt_ = false;
};

[[nodiscard]] const char* to_string(FocusHolder holder) noexcept;
[[nodiscard]] const char* to_string(SwitchSource source) noexcept;
[[nodiscard]] const char* to_string(SwitchPhase phase) noexcept;

} // namespace twofold::manager
