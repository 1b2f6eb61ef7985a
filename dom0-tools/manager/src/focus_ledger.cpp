#include "twofold/manager/focus_ledger.h"

namespace twofold::manager {

void FocusLedger::settle(FocusHolder holder, State state) { holders_[holder] = Entry{std::move(state), {}}; }

void FocusLedger::sent(FocusHolder holder, const State& state, std::uint64_t epoch) {
    const auto it = holders_.find(holder);
    if (it != holders_.end()) it->second.pending[epoch] = state;
}

void FocusLedger::acked(FocusHolder holder, std::uint64_t epoch) {
    const auto it = holders_.find(holder);
    if (it == holders_.end()) return;
    auto& pending = it->second.pending;
    if (const auto order = pending.find(epoch); order != pending.end()) it->second.confirmed = order->second;
    pending.erase(pending.begin(), pending.upper_bound(epoch));
}

void FocusLedger::refused(FocusHolder holder, std::uint64_t epoch) {
    const auto it = holders_.find(holder);
    if (it == holders_.end()) return;
    auto& pending = it->second.pending;
    pending.erase(pending.begin(), pending.upper_bound(epoch)); // not applied: the state stays
}

std::set<FocusLedger::State> FocusLedger::possible(FocusHolder holder) const {
    std::set<State> all;
    const auto it = holders_.find(holder);
    if (it == holders_.end()) return all;
    all.insert(it->second.confirmed);
    for (const auto& [epoch, state] : it->second.pending) all.insert(state);
    return all;
}

bool FocusLedger::may_differ(FocusHolder holder, const State& state) const {
    for (const auto& s : possible(holder)) {
        if (s != state) return true;
    }
    return false;
}

bool FocusLedger::may_be_elsewhere(FocusHolder holder, const std::string& persona) const {
    for (const auto& s : possible(holder)) {
        if (s && *s != persona) return true;
    }
    return false;
}

} // namespace twofold::manager
