#pragma once
// What each focus holder may be presenting or routing to, as far as the manager can know.
//
// A backend applies its focus orders in the order they were sent and answers each in that
// order (vmm/focus). An order that timed out is not gone: the backend may still apply it
// later. So a holder's possible state is what it last acknowledged plus every order sent to it
// since that is still unanswered. The foreground machine orders input to a persona only when
// the display cannot show the other one, and the display to a persona only when input cannot
// reach the other one, judged on these sets, not on what the last phase hoped for.
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>

namespace twofold::manager {

// The parts of the device whose focus follows the foreground persona. Each is served by a
// backend that must acknowledge a switch before it counts as done.
enum class FocusHolder : std::uint8_t { Display, Input, ModemAudio };

class FocusLedger {
public:
    // nullopt: nothing (a display presenting nothing, input routed to nobody).
    using State = std::optional<std::string>;

    // A holder whose state is known (the initial holders: at `state`).
    void settle(FocusHolder holder, State state);
    // A fresh backend: it presents or routes nothing until its first order.
    void fresh(FocusHolder holder) { settle(holder, std::nullopt); }
    // Its backend died: it presents or routes nothing any more.
    void forget(FocusHolder holder) { holders_.erase(holder); }

    void sent(FocusHolder holder, const State& state, std::uint64_t epoch);
    // An answer for `epoch`: every earlier order was answered before it (FIFO), so none of
    // them is pending any more; an ack makes the order of `epoch` the known state.
    void acked(FocusHolder holder, std::uint64_t epoch);
    void refused(FocusHolder holder, std::uint64_t epoch);

    // Every state the holder may be in (empty when it is not registered).
    [[nodiscard]] std::set<State> possible(FocusHolder holder) const;
    // The holder is registered and may be in a state other than `state`.
    [[nodiscard]] bool may_differ(FocusHolder holder, const State& state) const;
    // The holder is registered and may be presenting / routing to a persona other than
    // `persona` (nothing does not count).
    [[nodiscard]] bool may_be_elsewhere(FocusHolder holder, const std::string& persona) const;

private:
    struct Entry {
        State confirmed;
        std::map<std::uint64_t, State> pending; // epoch -> order, unanswered
    };
    std::map<FocusHolder, Entry> holders_;
};

} // namespace twofold::manager
