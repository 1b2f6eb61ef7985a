#include "twofold/focus/audit_limiter.h"

#include <algorithm>
#include <limits>

namespace twofold::focus {

namespace {


std::string persona_of(const AuditEvent& event) {
    const auto it = event.fields.find("persona");
    if (it == event.fields.end() || !it->is_string()) return {};
    const auto& name = it->get_ref<const std::string&>();
    return is_valid_name(name) ? name : std::string();
}

} // namespace

AuditLimits AuditLimits::unlimited() noexcept {
    AuditLimits l;
    l.burst = std::numeric_limits<std::uint32_t>::max();
    return l;
}

AuditLimiter::AuditLimiter(std::string backend, AuditLimits limits)
    : backend_(std::move(backend)), summary_kind_(backend_ + ".audit-suppressed"), limits_(limits) {}

bool AuditLimiter::admit(const AuditEvent& event, Clock::time_point now) {
    if (limits_.burst == std::numeric_limits<std::uint32_t>::max() || event.event == summary_kind_) return true;
    Pair pair{persona_of(event), event.event};
    auto it = buckets_.find(pair);
    if (it == buckets_.end()) {
        if (buckets_.size() >= limits_.max_pairs) pair = Pair{"*", "*"}; // the overflow bucket
        it = buckets_.try_emplace(pair, Bucket{static_cast<double>(limits_.burst), now, 0, {}}).first;
    }
    Bucket& b = it->second;
    if (limits_.refill.count() > 0 && now > b.refilled) {
        const double earned = std::chrono::duration<double>(now - b.refilled) / limits_.refill;
        b.tokens = std::min(static_cast<double>(limits_.burst), b.tokens + earned);
    }
    b.refilled = now;
    if (b.tokens >= 1.0) {
        b.tokens -= 1.0;
        return true;
    }
    if (b.suppressed == 0) b.first_suppressed = now;
    ++b.suppressed;
    ++suppressed_total_;
    return false;
}

AuditEvent AuditLimiter::summary(const Pair& pair, Bucket& bucket, Clock::time_point now) const {
    nlohmann::json fields{{"kind", pair.second},
                          {"suppressed", bucket.suppressed},
                          {"over_ms", std::chrono::duration_cast<std::chrono::milliseconds>(now - bucket.first_suppressed).count()}};
    if (!pair.first.empty() && pair.first != "*") fields["persona"] = pair.first;
    bucket.suppressed = 0;
    return AuditEvent{summary_kind_, std::move(fields)};
}

std::vector<AuditEvent> AuditLimiter::due(Clock::time_point now) {
    std::vector<AuditEvent> out;
    for (auto& [pair, bucket] : buckets_) {
        if (bucket.suppressed > 0 && now - bucket.first_suppressed >= limits_.summary_every) {
            out.push_back(summary(pair, bucket, now));
        }
    }
    return out;
}

std::vector<AuditEvent> AuditLimiter::take_all() {
    std::vector<AuditEvent> out;
    const auto now = Clock::now();
    for (auto& [pair, bucket] : buckets_) {
        if (bucket.suppressed > 0) out.push_back(summary(pair, bucket, now));
    }
    return out;
}

} // namespace twofold::focus
