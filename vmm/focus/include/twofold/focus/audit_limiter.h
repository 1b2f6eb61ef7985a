#pragma once
// How many audit events of one persona and one kind a backend sends up the focus link.
//
// Guests drive most audit events (a refused frontend, a refused frame, a refused AT line). A
// guest that repeats the cause in a loop (a frontend flipping its xenbus `state`) would make
// the backend send an event per iteration, and the manager write each one durably: the log
// grows by a GiB a day and the manager's writer, which every switch waits for, stays busy.
// So each (persona, kind) pair has a token bucket: `burst` events go up one by one, then one
// per `refill`; the rest are counted and reported as one `<backend>.audit-suppressed` event
// per pair and `summary_every` (persona, kind, count). Nothing goes unaccounted, and one
// persona's flood never spends another persona's budget, nor another kind's of its own.
// Events without a (valid) persona field share one system-wide bucket per kind.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "twofold/focus/focus_protocol.h"

namespace twofold::focus {

struct AuditLimits {
    std::uint32_t burst = 20;
    std::chrono::milliseconds refill{200}; // 5 events a second after the burst
    std::chrono::milliseconds summary_every{5000};
    // Kinds are the backend's own names, personas validated names: a handful of pairs. Beyond
    // this many, new pairs share one overflow bucket, so the table cannot grow without bound.
    std::size_t max_pairs = 64;

    // No limit (tests of the link itself).
    [[nodiscard]] static AuditLimits unlimited() noexcept;
};

class AuditLimiter {
public:
    using Clock = std::chrono::steady_clock;

    // `backend`: the name the summary events are sent under (`<backend>.audit-suppressed`).
    AuditLimiter(std::string backend, AuditLimits limits);

    // true: send this event; false: it was counted for a summary.
    bool admit(const AuditEvent& event, Clock::time_point now);
    // The summaries due now (their counts restart).
    std::vector<AuditEvent> due(Clock::time_point now);
    // Every count still held, due or not.
    std::vector<AuditEvent> take_all();

    [[nodiscard]] std::uint64_t suppressed_total() const noexcept { return suppressed_total_; }
    [[nodiscard]] const std::string& summary_kind() const noexcept { return summary_kind_; }

private:
    using Pair = std::pair<std::string, std::string>; // persona ("" for none), kind
    struct Bucket {
        double tokens = 0;
        Clock::time_point refilled{};
        std::uint64_t suppressed = 0;
        Clock::time_point first_suppressed{};
    };
    [[nodiscard]] AuditEvent summary(const Pair& pair, Bucket& bucket, Clock::time_point now) const;

    std::string backend_;
    std::string summary_kind_;
    AuditLimits limits_;
    std::map<Pair, Bucket> buckets_;
    std::uint64_t suppressed_total_ = 0;
};

} // namespace twofold::focus
