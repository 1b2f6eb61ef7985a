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
    return in_flight_->rolling_back ? in_flight_->from : in_flight_->to;
}

bool ForegroundStateMachine::known(const std::string& persona) const {
    return std::find(personas_.begin(), personas_.end(), persona) != personas_.end();
}

const std::string& ForegroundStateMachine::other_than(const std::string& persona) const {
    return personas_[0] == persona ? personas_[1] : personas_[0];
}

RequestOutcome ForegroundStateMachine::request(const SwitchRequest& req, std::vector<Command>& out) {
    if (req.target && !known(*req.target)) {
        return RequestOutcome::UnknownPersona;
    }
    if (!in_flight_) {
        const std::string target = req.target.value_or(other_than(foreground_));
        if (target == foreground_) {
            return RequestOutcome::AlreadyThere;
        }
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
    ++epoch_;
    in_flight_ = InFlight{foreground_, to, epoch_, source, holders_, false, {}};
    if (holders_.empty()) {
        finish(out); // no backend holds focus (none configured): nothing to wait for
        return;
    }
    for (const FocusHolder h : holders_) {
        out.emplace_back(SendFocus{h, to, epoch_});
    }
    out.emplace_back(ArmTimeout{epoch_});
}

void ForegroundStateMachine::acknowledge(FocusHolder holder, std::uint64_t epoch, std::vector<Command>& out) {
    if (!in_flight_ || in_flight_->epoch != epoch) {
        return; // a late ack for a switch that already ended
    }
    in_flight_->awaiting.erase(holder);
    if (in_flight_->awaiting.empty()) {
        finish(out);
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
    abort("timed out waiting for " + std::string(to_string(*in_flight_->awaiting.begin())), out);
}

void ForegroundStateMachine::abort(const std::string& reason, std::vector<Command>& out) {
    if (in_flight_->rolling_back) {
        // The rollback itself failed: nothing better is possible than keeping the old
        // foreground as the recorded state and re-sending it on the next request.
        const InFlight failed = *in_flight_;
        in_flight_.reset();
        out.emplace_back(SwitchAborted{foreground_, failed.to, failed.epoch, failed.abort_reason + "; rollback: " + reason});
        start_queued(out);
        return;
    }
    // Together or not at all: move every holder back to the persona that keeps the foreground.
    InFlight& f = *in_flight_;
    ++epoch_;
    f.epoch = epoch_;
    f.rolling_back = true;
    f.abort_reason = reason;
    f.awaiting = holders_;
    if (holders_.empty()) {
        finish(out); // the last holder died: nothing is left to move back
        return;
    }
    for (const FocusHolder h : holders_) {
        out.emplace_back(SendFocus{h, f.from, epoch_});
    }
    out.emplace_back(ArmTimeout{epoch_});
}

void ForegroundStateMachine::register_holder(FocusHolder holder, std::vector<Command>& out) {
    holders_.insert(holder);
    if (!in_flight_) {
        // Nothing waits for this ack: acknowledge() ignores an epoch with no switch in flight.
        out.emplace_back(SendFocus{holder, foreground_, epoch_});
        return;
    }
    in_flight_->awaiting.insert(holder);
    out.emplace_back(SendFocus{holder, *switching_to(), in_flight_->epoch});
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
        finish(out);
    }
}

void ForegroundStateMachine::finish(std::vector<Command>& out) {
    const InFlight done = *in_flight_;
    in_flight_.reset();
    if (done.rolling_back) {
        out.emplace_back(SwitchAborted{done.from, done.to, done.epoch, done.abort_reason});
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
    if (next != foreground_) {
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

const char* to_string(SwitchSource source) noexcept {
    switch (source) {
    case SwitchSource::HardwareKey: return "hardware-key";
    case SwitchSource::Cli: return "cli";
    case SwitchSource::Recovery: return "recovery";
    }
    return "unknown";
}

} // namespace twofold::manager
