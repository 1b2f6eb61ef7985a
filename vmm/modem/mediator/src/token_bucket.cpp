#include "twofold/modem/mediator/token_bucket.h"

#include <algorithm>
#include <stdexcept>

namespace twofold::modem::mediator {

TokenBucket::TokenBucket(std::uint32_t capacity, std::chrono::milliseconds refill)
    : capacity_(capacity), refill_(refill), tokens_(capacity) {
  if (capacity_ == 0 || refill_.count() <= 0) {
    throw std::invalid_argument("token bucket: capacity and refill period must be positive");
  }
}

void TokenBucket::refill(Clock::time_point now) {
  if (!refilled_) {
    refilled_ = now;
    return;
  }
  if (now <= *refilled_) return;
  const auto periods = static_cast<std::uint64_t>((now - *refilled_) / refill_);
  if (periods == 0) return;
  const std::uint64_t tokens = std::min<std::uint64_t>(capacity_, tokens_ + periods);
  tokens_ = static_cast<std::uint32_t>(tokens);
  // A full bucket does not bank time; otherwise the partial period carries over.
  refilled_ = tokens == capacity_ ? now : *refilled_ + refill_ * static_cast<std::int64_t>(periods);
}

bool TokenBucket::take(Clock::time_point now) {
  refill(now);
  if (tokens_ == 0) return false;
  --tokens_;
  return true;
}

}  // namespace twofold::modem::mediator
