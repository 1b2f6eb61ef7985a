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
    for (const FocusHolder h : holders_) {
        ledger_.settle(h, foreground_); // holders given up front are where the foreground is
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
    if (persona == kPinPromptPlace) return foreground_; // back from the prompt
    return personas_[0] == persona ? personas_[1] : personas_[0];
}

const std::string& ForegroundStateMachine::persona_of(const std::string& place) const {
    return place == kPinPromptPlace ? foreground_ : place;
}

bool ForegroundStateMachine::input_may_be_at_prompt() const {
    return ledger_.possible(FocusHolder::Input).count(std::string(kPinPromptPlace)) != 0;
}

std::string ForegroundStateMachine::toggle_target() const {
    if (!in_flight_) return other_than(place());
    return other_than(queued_.value_or(*switching_to()));
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

std::optional<FocusLedger::State> ForegroundStateMachine::order_for(FocusHolder holder, SwitchPhase phase) const {
    switch (holder) {
    case FocusHolder::Input:
        // Before the attach phase input belongs to nobody.
        return phase == SwitchPhase::Attach ? FocusLedger::State(heading()) : FocusLedger::State();
    case FocusHolder::Display:
        // Nothing while input is being detached (it may still reach either persona).
        if (phase == SwitchPhase::Detach) return std::nullopt;
        return FocusLedger::State(heading());
    case FocusHolder::ModemAudio: {
        // Calls follow the foreground; until the attach phase that is where the move began.
        const std::string& origin = in_flight_->rolling_back ? in_flight_->to : in_flight_->from;
        return FocusLedger::State(persona_of(phase == SwitchPhase::Attach ? heading() : origin));
    }
    }
    return std::nullopt;
}

bool ForegroundStateMachine::safe_to_send(FocusHolder holder, const FocusLedger::State& state) const {
    if (!state) return true; // nobody / nothing can never leak
    switch (holder) {
    case FocusHolder::Input: return !ledger_.may_be_elsewhere(FocusHolder::Display, *state);
    case FocusHolder::Display: return !ledger_.may_be_elsewhere(FocusHolder::Input, *state);
    case FocusHolder::ModemAudio: return true; // a ringing call shows no indicator and takes no keys
    }
    return false;
}

void ForegroundStateMachine::send(FocusHolder holder, const FocusLedger::State& state, std::uint64_t epoch,
                                  std::vector<Command>& out) {
    ledger_.sent(holder, state, epoch);
    out.emplace_back(SendFocus{holder, state, epoch});
}

RequestOutcome ForegroundStateMachine::request(const SwitchRequest& req, std::vector<Command>& out) {
    if (req.target && !known(*req.target)) {
        return RequestOutcome::UnknownPersona;
    }
    return request_to(req.target.value_or(""), !req.target, req.source, out);
}

RequestOutcome ForegroundStateMachine::request_prompt(SwitchSource source, std::vector<Command>& out) {
    return request_to(std::string(kPinPromptPlace), false, source, out);
}

RequestOutcome ForegroundStateMachine::request_to(const std::string& target_or_toggle, bool toggle, SwitchSource source,
                                                  std::vector<Command>& out) {
    if (!in_flight_) {
        const std::string here = place();
        const std::string target = toggle ? other_than(here) : target_or_toggle;
        if (target == here && !parked_) {
            return RequestOutcome::AlreadyThere;
        }
        // Parked: even the foreground is a real switch, the phases give input back safely.
        start(target, source, out);
        return RequestOutcome::Started;
    }
    // A switch is in flight. The user's latest intent wins, relative to where the device
    // will be when the current switch ends; a toggle pressed twice quickly ends where it began.
    const std::string landing = queued_.value_or(*switching_to());
    const std::string target = toggle ? other_than(landing) : target_or_toggle;
    if (target == *switching_to()) {
        const bool had_queue = queued_.has_value();
        queued_.reset();
        return had_queue ? RequestOutcome::Queued : RequestOutcome::AlreadyThere;
    }
    queued_ = target;
    queued_source_ = source;
    return RequestOutcome::Queued;
}

void ForegroundStateMachine::start(const std::string& to, SwitchSource source, std::vector<Command>& out) {
    in_flight_ = InFlight{place(), to, epoch_, source, SwitchPhase::Detach, {}, false, {}};
    plan(out);
}

void ForegroundStateMachine::plan(std::vector<Command>& out) {
    const std::string& target = heading();
    if (ledger_.may_be_elsewhere(FocusHolder::Input, target)) {
        enter(SwitchPhase::Detach, out); // input may reach the other persona: to nobody first
    } else if (ledger_.may_differ(FocusHolder::Display, target)) {
        enter(SwitchPhase::Present, out); // input is with nobody or the target: show the target
    } else if (ledger_.may_differ(FocusHolder::Input, target) ||
               ledger_.may_differ(FocusHolder::ModemAudio, persona_of(target))) {
        enter(SwitchPhase::Attach, out); // the screen shows the target (or nothing): give it input
    } else {
        finish(out); // every registered holder is known to be at the target
    }
}

void ForegroundStateMachine::enter(SwitchPhase phase, std::vector<Command>& out) {
    InFlight& f = *in_flight_;
    ++epoch_;
    f.epoch = epoch_;
    f.phase = phase;
    f.awaiting.clear();
    for (const FocusHolder h : holders_) {
        const auto order = order_for(h, phase);
        if (!waits_in(h, phase) || !order || !safe_to_send(h, *order)) {
            continue; // plan() only enters a phase whose orders are safe; checked once more here
        }
        f.awaiting.insert(h);
        send(h, *order, epoch_, out);
    }
    if (f.awaiting.empty()) {
        // Cannot happen (plan() enters a phase only for a registered holder it waits for); a
        // switch that stalls here would hold input with nobody, so it is ended, not looped.
        abort(std::string("nothing to wait for in the ") + to_string(phase) + " phase", out);
        return;
    }
    out.emplace_back(ArmTimeout{epoch_});
}

void ForegroundStateMachine::acknowledge(FocusHolder holder, std::uint64_t epoch, std::vector<Command>& out) {
    ledger_.acked(holder, epoch); // a late ack still tells where the holder is
    if (!in_flight_ || in_flight_->epoch != epoch) {
        return; // a late ack for a phase or switch that already ended
    }
    in_flight_->awaiting.erase(holder);
    if (in_flight_->awaiting.empty()) {
        plan(out);
    }
}

void ForegroundStateMachine::refuse(FocusHolder holder, std::uint64_t epoch, const std::string& reason,
                                    std::vector<Command>& out) {
    ledger_.refused(holder, epoch);
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
        // not known to route to it: it is parked until the next request or a holder's return.
        // What was sent was safe when sent, so at worst input reaches the persona on screen.
        const InFlight failed = *in_flight_;
        in_flight_.reset();
        parked_ = true;
        at_prompt_ = false; // the next request runs the phases toward a persona
        out.emplace_back(SwitchAborted{foreground_, failed.to, failed.epoch,
                                       failed.abort_reason + "; rollback (" + to_string(failed.phase) + "): " + reason,
                                       true});
        start_queued(out);
        return;
    }
    // Together or not at all: every holder goes back, by the same rules, from wherever the
    // failure left it (plan() sees what may have been applied).
    in_flight_->rolling_back = true;
    in_flight_->abort_reason = reason;
    plan(out);
}

void ForegroundStateMachine::register_holder(FocusHolder holder, std::vector<Command>& out) {
    holders_.insert(holder);
    ledger_.fresh(holder);
    if (!in_flight_) {
        const std::string here = place();
        if (parked_ || !safe_to_send(holder, here)) {
            // Input is parked, or the foreground cannot safely be given to it: run the phases.
            start(here, SwitchSource::Recovery, out);
            return;
        }
        // Nothing waits for this ack: acknowledge() ignores an epoch with no switch in flight.
        send(holder, holder == FocusHolder::ModemAudio ? foreground_ : here, epoch_, out);
        return;
    }
    InFlight& f = *in_flight_;
    const auto order = order_for(holder, f.phase);
    if (!order || !safe_to_send(holder, *order)) {
        return; // a later phase tells it (plan() sees it has nothing yet)
    }
    if (waits_in(holder, f.phase)) {
        f.awaiting.insert(holder);
    }
    send(holder, *order, f.epoch, out);
}

void ForegroundStateMachine::unregister_holder(FocusHolder holder, std::vector<Command>& out) {
    holders_.erase(holder);
    ledger_.forget(holder); // a dead backend presents / routes nothing
    if (!in_flight_ || in_flight_->awaiting.erase(holder) == 0) {
        return; // nothing was waiting for it
    }
    if (!in_flight_->rolling_back) {
        abort(std::string(to_string(holder)) + " backend died", out);
        return;
    }
    if (in_flight_->awaiting.empty()) {
        plan(out); // a rollback goes on without it
    }
}

void ForegroundStateMachine::finish(std::vector<Command>& out) {
    const InFlight done = *in_flight_;
    in_flight_.reset();
    parked_ = false; // every registered holder is known to be at the persona
    if (done.rolling_back) {
        at_prompt_ = done.from == kPinPromptPlace;
        out.emplace_back(SwitchAborted{done.from, done.to, done.epoch, done.abort_reason, false});
    } else {
        at_prompt_ = done.to == kPinPromptPlace;
        if (!at_prompt_) foreground_ = done.to;
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
    if (next != place() || parked_) {
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
    case SwitchSource::PinPrompt: return "pin-prompt";
    }
    return "unknown";
}

} // namespace twofold::manager
