#include "twofold/manager/foreground.h"

#include <algorithm>
#include <stdexcept>
#include <utility>

namespace twofold::manager {

ForegroundStateMachine::ForegroundStateMachine(std::vector<std::string> personas, std::string initial,
                                               std::set<FocusHolder> holders)
    : personas_(std::move(personas)), holders_(std::move(holders)), foreground_(std::move(initial)) {
    if (personas_.size() != 2 || personas_[0] == personas_[1]) {
        throw std::invalid_argument("foreground: exactly two distinct personas are required");
    }
    if (!known(foreground_)) {
        throw std::invalid_argument("foreground: initial persona '" + foreground_ + "' is not one of the personas");
    }
}

std::optional<std::string> ForegroundStateMachine::switching_to() const {
    if (!in_flight_) {
        return std::nullopt;
    }
    return heading();
}

std::optional<SwitchPhase> ForegroundStateMachine::phase() const {
    if (!in_flight_) {
        return std::nullopt;
    }
    return in_flight_->phase;
}

bool ForegroundStateMachine::known(const std::string& persona) const {
    return std::find(personas_.begin(), personas_.end(), persona) != personas_.end();
}

const std::string& ForegroundStateMachine::other_than(const std::string& persona) const {
    return personas_[0] == persona ? personas_[1] : personas_[0];
}

const std::string& ForegroundStateMachine::heading() const {
    return in_flight_->rolling_back ? in_flight_->from : in_flight_->to;
}

bool ForegroundStateMachine::waits_in(FocusHolder holder, SwitchPhase phase) noexcept {
    switch (holder) {
    case FocusHolder::Input: return phase == SwitchPhase::Detach || phase == SwitchPhase::Attach;
    case FocusHolder::Display: return phase == SwitchPhase::Present;
    case FocusHolder::ModemAudio: return phase == SwitchPhase::Attach;
    }
    return false;
}

std::optional<std::string> ForegroundStateMachine::order_for(FocusHolder holder, SwitchPhase phase) const {
    // Before the attach phase input belongs to nobody. The display and modem audio stay where
    // the move started (the persona input may still reach) until their own phase: `from` for a
    // switch, `to` for a rollback that began after the display had presented `to`.
    const InFlight& f = *in_flight_;
    const std::string& origin = f.rolling_back ? f.to : f.from;
    switch (holder) {
    case FocusHolder::Input:
        if (phase != SwitchPhase::Attach) return std::nullopt;
        return heading();
    case FocusHolder::Display: return phase == SwitchPhase::Detach ? origin : heading();
    case FocusHolder::ModemAudio: return phase == SwitchPhase::Attach ? heading() : origin;
    }
    return heading();
}

RequestOutcome ForegroundStateMachine::request(const SwitchRequest& req, std::vector<Command>& out) {
    if (req.target && !known(*req.target)) {
        return RequestOutcome::UnknownPersona;
    }
    if (!in_flight_) {
        const std::string target = req.target.value_or(other_than(foreground_));
        if (target == foreground_ && !parked_) {
            return RequestOutcome::AlreadyThere;
        }
        // Parked: even the foreground is a real switch, the phases give input back safely.
        start(target, req.source, out);
        return RequestOutcome::Started;
    }
    // A switch is in flight. The user's latest intent wins, relative to where the device
    // will be when the current switch ends; a toggle pressed twice quickly ends where it began.
    const std::string landing = queued_.value_or(*switching_to());
    const std::string target = req.target.value_or(other_than(landing));
    if (target == *switching_to()) {
        const bool had_queue = queued_.has_value();
        queued_.reset();
        return had_queue ? RequestOutcome::Queued : RequestOutcome::AlreadyThere;
    }
    queued_ = target;
    queued_source_ = req.source;
    return RequestOutcome::Queued;
}

void ForegroundStateMachine::start(const std::string& to, SwitchSource source, std::vector<Command>& out) {
    in_flight_ = InFlight{foreground_, to, epoch_, source, SwitchPhase::Detach, {}, false, {}, !parked_};
    if (holders_.empty()) {
        finish(out); // no backend holds focus (none configured): nothing to wait for
        return;
    }
    enter(SwitchPhase::Detach, out);
}

void ForegroundStateMachine::enter(SwitchPhase phase, std::vector<Command>& out) {
    InFlight& f = *in_flight_;
    ++epoch_;
    f.epoch = epoch_;
    f.phase = phase;
    f.awaiting.clear();
    for (const FocusHolder h : holders_) {
        if (waits_in(h, phase)) {
            f.awaiting.insert(h);
            out.emplace_back(SendFocus{h, order_for(h, phase), epoch_});
        }
    }
    if (f.awaiting.empty()) {
        advance(out); // nobody of this phase is registered (no such backend configured, or dead)
        return;
    }
    out.emplace_back(ArmTimeout{epoch_});
}

void ForegroundStateMachine::advance(std::vector<Command>& out) {
    switch (in_flight_->phase) {
    case SwitchPhase::Detach: enter(SwitchPhase::Present, out); return;
    case SwitchPhase::Present: enter(SwitchPhase::Attach, out); return;
    case SwitchPhase::Attach: finish(out); return;
    }
}

void ForegroundStateMachine::acknowledge(FocusHolder holder, std::uint64_t epoch, std::vector<Command>& out) {
    if (!in_flight_ || in_flight_->epoch != epoch) {
        return; // a late ack for a phase or switch that already ended
    }
    in_flight_->awaiting.erase(holder);
    if (in_flight_->awaiting.empty()) {
        advance(out);
    }
}

void ForegroundStateMachine::refuse(FocusHolder holder, std::uint64_t epoch, const std::string& reason,
                                    std::vector<Command>& out) {
    if (!in_flight_ || in_flight_->epoch != epoch) {
        return;
    }
    abort(std::string(to_string(holder)) + " refused: " + reason, out);
}

void ForegroundStateMachine::timeout(std::uint64_t epoch, std::vector<Command>& out) {
    if (!in_flight_ || in_flight_->epoch != epoch) {
        return;
    }
    abort("timed out waiting for " + std::string(to_string(*in_flight_->awaiting.begin())) + " (" +
              to_string(in_flight_->phase) + ")",
          out);
}

void ForegroundStateMachine::abort(const std::string& reason, std::vector<Command>& out) {
    if (in_flight_->rolling_back) {
        // The rollback itself failed. The old foreground stays the recorded state, but input is
        // not known to route to it: it is parked (nobody, or unconfirmed while the display
        // shows the persona it may reach) until the next request or a holder's return.
        const InFlight failed = *in_flight_;
        in_flight_.reset();
        parked_ = true;
        out.emplace_back(SwitchAborted{foreground_, failed.to, failed.epoch,
                                       failed.abort_reason + "; rollback (" + to_string(failed.phase) + "): " + reason,
                                       true});
        start_queued(out);
        return;
    }
    // Together or not at all: move every holder back, with the same phases, starting where the
    // failure leaves the device. Detach failed: the display was never told, input may go back
    // at once, unless the switch began parked (the display may still apply an old order: it
    // must confirm the old persona first). Present failed: input is with nobody, the display
    // must confirm the old persona first. Attach failed: input may reach the new persona, so
    // it goes to nobody first.
    InFlight& f = *in_flight_;
    const SwitchPhase failed_in = f.phase;
    f.rolling_back = true;
    f.abort_reason = reason;
    switch (failed_in) {
    case SwitchPhase::Detach: enter(f.display_settled ? SwitchPhase::Attach : SwitchPhase::Present, out); return;
    case SwitchPhase::Present: enter(SwitchPhase::Present, out); return;
    case SwitchPhase::Attach: enter(SwitchPhase::Detach, out); return;
    }
}

void ForegroundStateMachine::register_holder(FocusHolder holder, std::vector<Command>& out) {
    holders_.insert(holder);
    if (!in_flight_) {
        if (parked_) {
            // A backend came back while input is parked: run the phases toward the foreground.
            start(foreground_, SwitchSource::Recovery, out);
            return;
        }
        // Nothing waits for this ack: acknowledge() ignores an epoch with no switch in flight.
        out.emplace_back(SendFocus{holder, foreground_, epoch_});
        return;
    }
    InFlight& f = *in_flight_;
    if (waits_in(holder, f.phase)) {
        f.awaiting.insert(holder);
    }
    out.emplace_back(SendFocus{holder, order_for(holder, f.phase), f.epoch});
}

void ForegroundStateMachine::unregister_holder(FocusHolder holder, std::vector<Command>& out) {
    holders_.erase(holder);
    if (!in_flight_ || in_flight_->awaiting.erase(holder) == 0) {
        return; // nothing was waiting for it
    }
    if (!in_flight_->rolling_back) {
        abort(std::string(to_string(holder)) + " backend died", out);
        return;
    }
    if (in_flight_->awaiting.empty()) {
        advance(out); // a rollback goes on without it
    }
}

void ForegroundStateMachine::finish(std::vector<Command>& out) {
    const InFlight done = *in_flight_;
    in_flight_.reset();
    parked_ = false; // every phase was confirmed (or had no holder left to confirm it)
    if (done.rolling_back) {
        out.emplace_back(SwitchAborted{done.from, done.to, done.epoch, done.abort_reason, false});
    } else {
        foreground_ = done.to;
        out.emplace_back(SwitchCommitted{done.from, done.to, done.epoch, done.source});
    }
    start_queued(out);
}

void ForegroundStateMachine::start_queued(std::vector<Command>& out) {
    if (!queued_) {
        return;
    }
    const std::string next = *queued_;
    queued_.reset();
    if (next != foreground_ || parked_) {
        start(next, queued_source_, out);
    }
}

const char* to_string(FocusHolder holder) noexcept {
    switch (holder) {
    case FocusHolder::Display: return "display";
    case FocusHolder::Input: return "input";
    case FocusHolder::ModemAudio: return "modem-audio";
    }
    return "unknown";
}

const char* to_string(SwitchPhase phase) noexcept {
    switch (phase) {
    case SwitchPhase::Detach: return "detach";
    case SwitchPhase::Present: return "present";
    case SwitchPhase::Attach: return "attach";
    }
    return "unknown";
}

const char* to_string(SwitchSource source) noexcept {
    switch (source) {
    case SwitchSource::HardwareKey: return "hardware-key";
    case SwitchSource::Cli: return "cli";
    case SwitchSource::Recovery: return "recovery";
    }
    return "unknown";
}

} // namespace twofold::manager
