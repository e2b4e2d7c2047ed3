// Histograms: Envoy's default buckets, count and sum, quantiles interpolated within a bucket and
// bounded by the samples seen, and recording from many threads.
#include <catch2/catch.hpp>

#include <cmath>
#include <thread>
#include <vector>

#include "source/stats/histogram.h"
#include "source/stats/store.h"

namespace remora::stats {
namespace {

HistogramSnapshot recorded(std::initializer_list<uint64_t> values) {
  Histogram h;
  for (uint64_t v : values) h.record(v);
  return h.snapshot();
}

TEST_CASE("a sample lands in the first bucket whose bound is at least the sample", "[stats]") {
  const HistogramSnapshot s = recorded({0, 1, 2, 5, 3600000, 3600001});
  CHECK(s.bucket_counts[0] == 1);                                  // 0 <= 0.5
  CHECK(s.bucket_counts[1] == 1);                                  // 1 <= 1
  CHECK(s.bucket_counts[2] == 2);                                  // 2 and 5 <= 5
  CHECK(s.bucket_counts[kHistogramBucketBounds.size() - 1] == 1);  // 3600000 <= 3600000
  CHECK(s.bucket_counts[kHistogramBucketBounds.size()] == 1);      // Overflow.
  CHECK(s.countAtOrBelow(2) == 4);
  CHECK(s.countAtOrBelow(kHistogramBucketBounds.size() - 1) == 5);
}

TEST_CASE("count sum min and max cover every sample", "[stats]") {
  const HistogramSnapshot s = recorded({40, 7, 300});
  CHECK(s.used());
  CHECK(s.count == 3);
  CHECK(s.sum == 347);
  CHECK(s.min == 7);
  CHECK(s.max == 300);
}

TEST_CASE("a single sample reads back as itself at every quantile", "[stats]") {
  const HistogramSnapshot s = recorded({7});
  for (const SupportedQuantile& q : kSupportedQuantiles) CHECK(s.quantile(q.fraction) == 7);
}

TEST_CASE("quantiles interpolate linearly within a bucket narrowed to the samples seen",
          "[stats]") {
  // 2, 3 and 4 fall in (1, 5], narrowed to [2, 5]; 6 falls in (5, 10], narrowed to (5, 6].
  const HistogramSnapshot s = recorded({2, 3, 4, 6});
  CHECK(s.quantile(0) == 2);
  CHECK(s.quantile(0.25) == Approx(3));
  CHECK(s.quantile(0.5) == Approx(4));
  CHECK(s.quantile(0.75) == Approx(5));
  CHECK(s.quantile(0.9) == Approx(5.6));
  CHECK(s.quantile(1) == 6);
}

TEST_CASE("quantiles above the last bound stay within the largest sample", "[stats]") {
  const HistogramSnapshot s = recorded({5000000, 7000000});
  CHECK(s.quantile(0.5) == Approx(6000000));
  CHECK(s.quantile(0.99) <= 7000000);
  CHECK(s.quantile(1) == 7000000);
}

TEST_CASE("an empty histogram is unused with NaN quantiles", "[stats]") {
  const HistogramSnapshot s = Histogram().snapshot();
  CHECK_FALSE(s.used());
  CHECK(s.count == 0);
  CHECK(std::isnan(s.quantile(0.5)));
  CHECK(std::isnan(s.quantile(0)));
}

TEST_CASE("records from many threads are all counted", "[stats]") {
  Store store;
  Histogram& h = store.histogram("config.apply_ms");
  constexpr int kThreads = 4;
  constexpr int kRecords = 5000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&h, t] {
      for (int i = 0; i < kRecords; ++i) h.record(static_cast<uint64_t>(t));
    });
  }
  for (auto& t : threads) t.join();
  const HistogramSnapshot s = h.snapshot();
  CHECK(s.count == kThreads * kRecords);
  CHECK(s.sum == kRecords * (0 + 1 + 2 + 3));
  CHECK(s.min == 0);
  CHECK(s.max == 3);
}

TEST_CASE("the same name returns the same histogram", "[stats]") {
  Store store;
  CHECK(&store.histogram("a.b") == &store.histogram("a.b"));
  CHECK(&store.histogram("a.b") != &store.histogram("a.c"));
}

TEST_CASE("histogram snapshots are named and sorted by name and apart from counters", "[stats]") {
  Store store;
  store.histogram("z.ms").record(3);
  store.histogram("a.ms");
  store.counter("m.count").inc();
  const auto histograms = store.histogramSnapshot();
  REQUIRE(histograms.size() == 2);
  CHECK(histograms[0].name == "a.ms");
  CHECK_FALSE(histograms[0].used());
  CHECK(histograms[1].name == "z.ms");
  CHECK(histograms[1].sum == 3);
  CHECK(store.snapshot().size() == 1);
}

}  // namespace
}  // namespace remora::stats
