// Exponential backoff with full jitter, for reconnects and retries.
//
// The n-th delay is uniform in [base/2, min(max, base * 2^n)], so that many clients that lost the
// same broker do not all come back at the same instant. Not thread-safe; owned by one strand.
#pragma once

#include <chrono>
#include <cstdint>
#include <random>

namespace kafka::net {

class Backoff {
 public:
  Backoff(std::chrono::milliseconds base, std::chrono::milliseconds max);

  // The delay before the next attempt; each call doubles the ceiling up to `max`.
  std::chrono::milliseconds next();
  // After a success: the next failure starts again from `base`.
  void reset() { attempt_ = 0; }
  uint32_t attempts() const { return attempt_; }

 private:
  std::chrono::milliseconds base_;
  std::chrono::milliseconds max_;
  uint32_t attempt_ = 0;
  std::minstd_rand random_;
};

}  // namespace kafka::net
