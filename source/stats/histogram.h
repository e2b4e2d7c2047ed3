// Histograms of integer samples (durations in milliseconds) in Envoy's default buckets, and the
// quantile estimates the /stats formats print from them.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>

namespace remora::stats {

// Envoy's default bucket upper bounds, inclusive (Prometheus' `le`). Samples above the last one
// land in an overflow bucket, which only `+Inf` covers.
inline constexpr std::array<double, 19> kHistogramBucketBounds = {
    0.5,  1,    5,     10,    25,    50,     100,    250,     500,    1000,
    2500, 5000, 10000, 30000, 60000, 300000, 600000, 1800000, 3600000};
inline constexpr size_t kHistogramBuckets = kHistogramBucketBounds.size() + 1;

// The quantiles Envoy's text and JSON formats show, with the labels the text format gives them.
struct SupportedQuantile {
  double fraction;
  const char* label;  // "P99.5": the percentage as Envoy prints it.
};
inline constexpr std::array<SupportedQuantile, 10> kSupportedQuantiles = {{{0, "P0"},
                                                                           {0.25, "P25"},
                                                                           {0.5, "P50"},
                                                                           {0.75, "P75"},
                                                                           {0.9, "P90"},
                                                                           {0.95, "P95"},
                                                                           {0.99, "P99"},
                                                                           {0.995, "P99.5"},
                                                                           {0.999, "P99.9"},
                                                                           {1, "P100"}}};

// A histogram's contents at one moment.
struct HistogramSnapshot {
  std::string name;
  // [i] counts samples in (bounds[i-1], bounds[i]]; the last entry counts those above every bound.
  std::array<uint64_t, kHistogramBuckets> bucket_counts{};
  uint64_t count = 0;
  uint64_t sum = 0;
  // Exact extremes, valid when count > 0. They pin P0 and P100 and bound the interpolation, so a
  // single sample reads back as itself and the overflow bucket has an upper end.
  uint64_t min = 0;
  uint64_t max = 0;

  bool used() const { return count > 0; }
  // Samples <= kHistogramBucketBounds[bound]; Prometheus buckets are cumulative.
  uint64_t countAtOrBelow(size_t bound) const;
  // The value below which `fraction` (0..1) of the samples lie, interpolated linearly within the
  // bucket it falls in; NaN when there are no samples.
  double quantile(double fraction) const;
};

// Safe to record into from any thread. A mutex is enough: histograms time rare events (config
// updates), never a request, and it keeps count, sum and buckets consistent for a reader.
class Histogram {
 public:
  void record(uint64_t value);
  // The name is left empty; the store fills it in.
  HistogramSnapshot snapshot() const;

 private:
  mutable std::mutex lock_;
  HistogramSnapshot data_;
};

}  // namespace remora::stats
