#include "twofold/modem/mediator/refusal_limiter.h"

#include <stdexcept>

namespace twofold::modem::mediator {

RefusalLimiter::RefusalLimiter(std::size_t personas, RefusalLimits limits) : limits_(limits) {
  if (limits_.summary_every.count() <= 0) {
    throw std::invalid_argument("refusal limits: the summary period must be positive");
  }
  buckets_.reserve(personas);
  for (std::size_t p = 0; p < personas; ++p) buckets_.push_back(Bucket{TokenBucket(limits_.burst, limits_.refill), 0, {}});
}

bool RefusalLimiter::admit(PersonaIndex persona, Clock::time_point now) {
  Bucket& bucket = buckets_.at(persona);
  if (bucket.records.take(now)) return true;
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
