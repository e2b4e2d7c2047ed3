#include "source/stats/histogram.h"

#include <algorithm>
#include <limits>

namespace remora::stats {

uint64_t HistogramSnapshot::countAtOrBelow(size_t bound) const {
  uint64_t total = 0;
  for (size_t i = 0; i <= bound && i < bucket_counts.size(); ++i) total += bucket_counts[i];
  return total;
}

double HistogramSnapshot::quantile(double fraction) const {
  if (count == 0) return std::numeric_limits<double>::quiet_NaN();
  if (fraction <= 0) return static_cast<double>(min);
  if (fraction >= 1) return static_cast<double>(max);
  const double rank = fraction * static_cast<double>(count);
  uint64_t below = 0;
  for (size_t i = 0; i < bucket_counts.size(); ++i) {
    const uint64_t in_bucket = bucket_counts[i];
    if (in_bucket == 0) continue;
    if (static_cast<double>(below + in_bucket) >= rank) {
      // The bucket's range narrowed to the samples actually seen: no estimate can fall outside
      // [min, max], and the overflow bucket gets an upper end.
      const double lower =
          std::max(i == 0 ? 0.0 : kHistogramBucketBounds[i - 1], static_cast<double>(min));
      const double upper = std::min(
          i < kHistogramBucketBounds.size() ? kHistogramBucketBounds[i] : static_cast<double>(max),
          static_cast<double>(max));
      const double within = (rank - static_cast<double>(below)) / static_cast<double>(in_bucket);
      return lower + (upper - lower) * within;
    }
    below += in_bucket;
  }
  return static_cast<double>(max);
}

void Histogram::record(uint64_t value) {
  const auto bucket = static_cast<size_t>(std::lower_bound(kHistogramBucketBounds.begin(),
                                                           kHistogramBucketBounds.end(),
                                                           static_cast<double>(value)) -
                                          kHistogramBucketBounds.begin());
  std::lock_guard<std::mutex> lock(lock_);
  ++data_.bucket_counts[bucket];
  if (data_.count == 0) {
    data_.min = value;
    data_.max = value;
  } else {
    data_.min = std::min(data_.min, value);
    data_.max = std::max(data_.max, value);
  }
  ++data_.count;
  data_.sum += value;
}

HistogramSnapshot Histogram::snapshot() const {
  std::lock_guard<std::mutex> lock(lock_);
  return data_;
}

}  // namespace remora::stats
