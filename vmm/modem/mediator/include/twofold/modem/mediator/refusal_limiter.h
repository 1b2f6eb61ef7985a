// How many refusals of one persona become individual audit records and log lines.
//
// A hostile persona can produce thousands of refused or malformed lines a second. Each is an
// audit record the manager writes durably (fsync per record by default): unlimited, a flood
// keeps dom0's manager busy for minutes, delaying persona switches and every other record
// (seen on the lab board: 300 records from a 10 s flood took the manager 60 s). So each
// persona has a token bucket: `burst` refusals are recorded one by one, then one more per
// `refill`; the rest are counted and reported as one summary record per `summary_every`.
// Nothing goes unaccounted, and one persona's flood never spends the other's budget. Calls are
// not limited here; SMS sends have their own per-persona budget from the policy (mediator.h).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "twofold/modem/mediator/ownership.h"
#include "twofold/modem/mediator/token_bucket.h"

namespace twofold::modem::mediator {

struct RefusalLimits {
  std::uint32_t burst = 10;
  std::chrono::milliseconds refill{1000};
  std::chrono::milliseconds summary_every{5000};
};

class RefusalLimiter {
 public:
  using Clock = std::chrono::steady_clock;

  struct Suppressed {
    PersonaIndex persona;
    std::uint64_t count;
  };

  RefusalLimiter(std::size_t personas, RefusalLimits limits);

  // true: record this refusal in full; false: it is counted for the next summary.
  bool admit(PersonaIndex persona, Clock::time_point now);
  // The personas whose counted refusals are due for a summary record (the counts restart).
  std::vector<Suppressed> due(Clock::time_point now);
  // Every count still held, due or not (the backend is stopping).
  std::vector<Suppressed> take_all();

 private:
  struct Bucket {
    TokenBucket records;
    std::uint64_t suppressed = 0;
    Clock::time_point first_suppressed{};
  };

  RefusalLimits limits_;
  std::vector<Bucket> buckets_;
};

}  // namespace twofold::modem::mediator
