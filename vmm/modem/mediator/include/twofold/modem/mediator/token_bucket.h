// A token bucket on a caller-supplied clock: up to `capacity` takes at once, then one more
// per `refill`. Starts full. Used for the per-persona refusal record budget and SMS send rate.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>

namespace twofold::modem::mediator {

class TokenBucket {
 public:
  using Clock = std::chrono::steady_clock;

  // Throws std::invalid_argument unless capacity and refill are positive.
  TokenBucket(std::uint32_t capacity, std::chrono::milliseconds refill);

  // true: a token was taken; false: the bucket is empty until the next refill.
  bool take(Clock::time_point now);

 private:
  void refill(Clock::time_point now);

  std::uint32_t capacity_;
  std::chrono::milliseconds refill_;
  std::uint32_t tokens_;
  std::optional<Clock::time_point> refilled_;  // none yet: full at first use
};

}  // namespace twofold::modem::mediator
