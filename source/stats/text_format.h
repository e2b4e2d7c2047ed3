// Renders a stats Store snapshot in the shapes Envoy's admin serves: /stats text, /stats JSON and
// /stats/prometheus, plus the ?filter=, ?usedonly and ?type= selection they all share.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "source/stats/store.h"

namespace remora::stats {

enum class StatTypeFilter { kAll, kCounters, kGauges };

struct StatsQuery {
  bool used_only = false;  // ?usedonly: only stats ever incremented or set.
  std::string filter;      // ?filter=: RE2 pattern matched anywhere in the full name; empty = all.
  StatTypeFilter type = StatTypeFilter::kAll;
};

// The entries the query selects, keeping their order. InvalidArgument when the filter is not a
// valid RE2 pattern.
absl::StatusOr<std::vector<Store::Entry>> selectStats(std::vector<Store::Entry> entries,
                                                      const StatsQuery& query);

// `name: value` per line, in the entries' (name) order.
std::string renderText(const std::vector<Store::Entry>& entries);

// {"stats":[{"name":"...","value":N},...]}
std::string renderJson(const std::vector<Store::Entry>& entries);

// Prometheus text exposition: counters then gauges, grouped by tag-extracted name, each group
// headed by `# TYPE` and followed by a blank line, as Envoy writes it.
std::string renderPrometheus(const std::vector<Store::Entry>& entries);

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
