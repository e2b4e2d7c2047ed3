// Renders a stats Store snapshot (counters, gauges and histograms) in the shapes Envoy's admin
// serves: /stats text, /stats JSON and /stats/prometheus, plus the ?filter=, ?usedonly and ?type=
// selection they all share.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "source/stats/histogram.h"
#include "source/stats/store.h"

namespace remora::stats {

enum class StatTypeFilter { kAll, kCounters, kGauges, kHistograms };

struct StatsQuery {
  bool used_only = false;  // ?usedonly: only stats ever incremented, set or recorded into.
  std::string filter;      // ?filter=: RE2 pattern matched anywhere in the full name; empty = all.
  StatTypeFilter type = StatTypeFilter::kAll;
};

// The entries the query selects, keeping their order. InvalidArgument when the filter is not a
// valid RE2 pattern.
absl::StatusOr<std::vector<Store::Entry>> selectStats(std::vector<Store::Entry> entries,
                                                      const StatsQuery& query);
// The same selection over histograms.
absl::StatusOr<std::vector<HistogramSnapshot>> selectHistograms(
    std::vector<HistogramSnapshot> histograms, const StatsQuery& query);

// `name: value` per line, in the entries' (name) order, then one line per histogram:
// `name: P0(interval,cumulative) P25(...) ... P100(...)`, or `name: No recorded values`.
// Remora never flushes stats, so a histogram's interval is its whole life and both values are the
// same.
std::string renderText(const std::vector<Store::Entry>& entries,
                       const std::vector<HistogramSnapshot>& histograms = {});

// {"stats":[{"name":"...","value":N},...]}, with the histograms, when there are any, as a last
// element {"histograms":{"supported_quantiles":[...],"computed_quantiles":[{"name":"...",
// "values":[{"interval":x,"cumulative":x},...]},...]}}; an empty histogram's values are null.
std::string renderJson(const std::vector<Store::Entry>& entries,
                       const std::vector<HistogramSnapshot>& histograms = {});

// Prometheus text exposition: counters, gauges, then histograms (cumulative `_bucket{le=...}`
// lines up to `+Inf`, `_sum`, `_count`), grouped by tag-extracted name, each group headed by
// `# TYPE` and followed by a blank line, as Envoy writes it.
std::string renderPrometheus(const std::vector<Store::Entry>& entries,
                             const std::vector<HistogramSnapshot>& histograms = {});

// A stat name split the way Envoy's tag extractors split it: `cluster.<name>.<rest>` becomes
// "cluster.<rest>" with tag ("envoy.cluster_name", "<name>"); other names carry no tags.
struct TaggedName {
  std::string tag_extracted_name;
  std::vector<std::pair<std::string, std::string>> tags;
};
TaggedName extractTags(std::string_view stat_name);

// Envoy's Prometheus metric name: "envoy_" + the name with every char outside [a-zA-Z0-9_]
// replaced by '_'.
std::string prometheusMetricName(std::string_view tag_extracted_name);

}  // namespace remora::stats
