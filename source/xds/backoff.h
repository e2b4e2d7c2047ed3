// Re-connection delays for the xDS stream: exponential growth with full jitter, so that many
// proxies losing the same management server do not all come back in the same millisecond.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>

#include "absl/random/random.h"

namespace remora::xds {

class Backoff {
 public:
  // Returns a value in [0, ceiling]; the default is uniformly random. Tests pass a fixed one.
  using Jitter = std::function<uint64_t(uint64_t ceiling)>;

  Backoff(std::chrono::milliseconds base, std::chrono::milliseconds max, Jitter jitter = {});

  // The wait before the next attempt after one more consecutive failure: the n-th (from 0) waits
  // up to min(max, base * 2^n).
  std::chrono::milliseconds next();
  // A success: the next failure waits up to `base` again.
  void reset() { failures_ = 0; }

 private:
  const uint64_t base_ms_;
  const uint64_t max_ms_;
  Jitter jitter_;  // Empty: uniform from gen_.
  absl::BitGen gen_;
  uint32_t failures_ = 0;
};

}  // namespace remora::xds
