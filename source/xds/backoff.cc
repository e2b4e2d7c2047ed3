#include "source/xds/backoff.h"

#include <algorithm>

namespace remora::xds {

Backoff::Backoff(std::chrono::milliseconds base, std::chrono::milliseconds max, Jitter jitter)
    : base_ms_(static_cast<uint64_t>(std::max<int64_t>(base.count(), 1))),
      max_ms_(static_cast<uint64_t>(std::max<int64_t>(max.count(), 1))),
      jitter_(std::move(jitter)) {}

std::chrono::milliseconds Backoff::next() {
  uint64_t ceiling = max_ms_;
  // Compared as base <= max / 2^n so that the shift cannot overflow.
  if (failures_ < 64 && base_ms_ <= (max_ms_ >> failures_)) ceiling = base_ms_ << failures_;
  if (failures_ < 64) ++failures_;
  const uint64_t wait = jitter_ ? std::min(jitter_(ceiling), ceiling)
                                : absl::Uniform<uint64_t>(absl::IntervalClosed, gen_, 0, ceiling);
  return std::chrono::milliseconds(wait);
}

}  // namespace remora::xds
