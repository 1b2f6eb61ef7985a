#include "twofold/modem/mediator/refusal_limiter.h"

#include <algorithm>
#include <stdexcept>

namespace twofold::modem::mediator {

RefusalLimiter::RefusalLimiter(std::size_t personas, RefusalLimits limits)
    : limits_(limits), buckets_(personas, Bucket{limits.burst, std::nullopt, 0, {}}) {
  if (limits_.burst == 0 || limits_.refill.count() <= 0 || limits_.summary_every.count() <= 0) {
    throw std::invalid_argument("refusal limits: burst, refill and summary period must be positive");
  }
}

void RefusalLimiter::refill(Bucket& bucket, Clock::time_point now) const {
  if (!bucket.refilled) {
    bucket.refilled = now;
    return;
  }
  if (now <= *bucket.refilled) return;
  const auto periods = static_cast<std::uint64_t>((now - *bucket.refilled) / limits_.refill);
  if (periods == 0) return;
  const std::uint64_t tokens = std::min<std::uint64_t>(limits_.burst, bucket.tokens + periods);
  bucket.tokens = static_cast<std::uint32_t>(tokens);
  // A full bucket does not bank time; otherwise the partial period carries over.
  bucket.refilled = tokens == limits_.burst ? now : *bucket.refilled + limits_.refill * static_cast<std::int64_t>(periods);
}

bool RefusalLimiter::admit(PersonaIndex persona, Clock::time_point now) {
  Bucket& bucket = buckets_.at(persona);
  refill(bucket, now);
  if (bucket.tokens > 0) {
    --bucket.tokens;
    return true;
  }
  if (bucket.suppressed++ == 0) bucket.first_suppressed = now;
  return false;
}

std::vector<RefusalLimiter::Suppressed> RefusalLimiter::due(Clock::time_point now) {
  std::vector<Suppressed> out;
  for (PersonaIndex p = 0; p < buckets_.size(); ++p) {
    Bucket& bucket = buckets_[p];
    if (bucket.suppressed > 0 && now - bucket.first_suppressed >= limits_.summary_every) {
      out.push_back({p, bucket.suppressed});
      bucket.suppressed = 0;
    }
  }
  return out;
}

std::vector<RefusalLimiter::Suppressed> RefusalLimiter::take_all() {
  std::vector<Suppressed> out;
  for (PersonaIndex p = 0; p < buckets_.size(); ++p) {
    if (buckets_[p].suppressed > 0) out.push_back({p, buckets_[p].suppressed});
    buckets_[p].suppressed = 0;
  }
  return out;
}

}  // namespace twofold::modem::mediator
