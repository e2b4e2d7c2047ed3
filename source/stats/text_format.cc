// /stats renderings (text, JSON, Prometheus) and the selection of which stats they show.
#include "source/stats/text_format.h"

#include <charconv>
#include <cmath>
#include <map>
#include <memory>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "re2/re2.h"
#include "source/admin/json_escape.h"

namespace remora::stats {
namespace {

// Counters are unsigned in Envoy; the snapshot carries them in an int64 slot.
std::string valueString(const Store::Entry& e) {
  return e.is_counter ? absl::StrCat(static_cast<uint64_t>(e.value)) : absl::StrCat(e.value);
}

// Shortest round-trip digits, never an exponent: Prometheus bounds read "300000", not "3e+05".
std::string formatDouble(double v) {
  if (std::isnan(v)) return "nan";
  char buf[128];
  auto result = std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::fixed);
  if (result.ec != std::errc()) result = std::to_chars(buf, buf + sizeof(buf), v);
  return std::string(buf, result.ptr);
}

std::string sanitize(std::string_view name) {
  std::string out(name);
  for (char& c : out) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '_') c = '_';
  }
  return out;
}

// Label values may hold anything but these three must be escaped in the exposition format.
void appendLabelValue(std::string& out, std::string_view v) {
  for (char c : v) {
    if (c == '\\') {
      out.append("\\\\");
    } else if (c == '"') {
      out.append("\\\"");
    } else if (c == '\n') {
      out.append("\\n");
    } else {
      out.push_back(c);
    }
  }
}

// A stat with its name split into Prometheus metric and labels.
template <typename Stat>
struct Sample {
  const Stat* stat;
  TaggedName tagged;
};

// Keyed by tag-extracted name so every sample of one metric lands in a single group, as the
// exposition format requires; within a group the stats keep their name order.
template <typename Stat>
std::map<std::string, std::vector<Sample<Stat>>> groupByMetric(
    const std::vector<const Stat*>& stats) {
  std::map<std::string, std::vector<Sample<Stat>>> groups;
  for (const Stat* stat : stats) {
    TaggedName tagged = extractTags(stat->name);
    auto& group = groups[tagged.tag_extracted_name];
    group.push_back({stat, std::move(tagged)});
  }
  return groups;
}

// `{tag="value",...}`, with a histogram bucket's `le` last; `{}` without labels, as Envoy writes.
std::string labels(const std::vector<std::pair<std::string, std::string>>& tags,
                   std::string_view le = {}) {
  std::string out = "{";
  for (const auto& [name, value] : tags) {
    if (out.size() > 1) out.push_back(',');
    absl::StrAppend(&out, sanitize(name), "=\"");
    appendLabelValue(out, value);
    out.push_back('"');
  }
  if (!le.empty()) {
    if (out.size() > 1) out.push_back(',');
    out.append("le=\"").append(le).push_back('"');
  }
  out.push_back('}');
  return out;
}

void appendGroups(std::string& out, const std::vector<const Store::Entry*>& entries,
                  const char* type) {
  for (const auto& [extracted, samples] : groupByMetric(entries)) {
    const std::string metric = prometheusMetricName(extracted);
    absl::StrAppend(&out, "# TYPE ", metric, " ", type, "\n");
    for (const auto& s : samples) {
      absl::StrAppend(&out, metric, labels(s.tagged.tags), " ", valueString(*s.stat), "\n");
    }
    out.push_back('\n');
  }
}

void appendHistogramGroups(std::string& out,
                           const std::vector<const HistogramSnapshot*>& histograms) {
  for (const auto& [extracted, samples] : groupByMetric(histograms)) {
    const std::string metric = prometheusMetricName(extracted);
    absl::StrAppend(&out, "# TYPE ", metric, " histogram\n");
    for (const auto& s : samples) {
      const HistogramSnapshot& h = *s.stat;
      for (size_t i = 0; i < kHistogramBucketBounds.size(); ++i) {
        absl::StrAppend(&out, metric, "_bucket",
                        labels(s.tagged.tags, formatDouble(kHistogramBucketBounds[i])), " ",
                        h.countAtOrBelow(i), "\n");
      }
      absl::StrAppend(&out, metric, "_bucket", labels(s.tagged.tags, "+Inf"), " ", h.count, "\n");
      absl::StrAppend(&out, metric, "_sum", labels(s.tagged.tags), " ", h.sum, "\n");
      absl::StrAppend(&out, metric, "_count", labels(s.tagged.tags), " ", h.count, "\n");
    }
    out.push_back('\n');
  }
}

// Compiles ?filter=; null when there is none.
absl::StatusOr<std::unique_ptr<RE2>> compileFilter(const std::string& filter) {
  if (filter.empty()) return nullptr;
  RE2::Options options;
  options.set_log_errors(false);
  auto regex = std::make_unique<RE2>(filter, options);
  if (!regex->ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("Invalid re2 regex '", filter, "': ", regex->error()));
  }
  return regex;
}

}  // namespace

absl::StatusOr<std::vector<Store::Entry>> selectStats(std::vector<Store::Entry> entries,
                                                      const StatsQuery& query) {
  auto regex = compileFilter(query.filter);
  if (!regex.ok()) return regex.status();
  std::vector<Store::Entry> out;
  if (query.type == StatTypeFilter::kHistograms) return out;
  out.reserve(entries.size());
  for (auto& e : entries) {
    if (query.type == StatTypeFilter::kCounters && !e.is_counter) continue;
    if (query.type == StatTypeFilter::kGauges && e.is_counter) continue;
    if (query.used_only && !e.used && e.value == 0) continue;
    if (*regex && !RE2::PartialMatch(e.name, **regex)) continue;
    out.push_back(std::move(e));
  }
  return out;
}

absl::StatusOr<std::vector<HistogramSnapshot>> selectHistograms(
    std::vector<HistogramSnapshot> histograms, const StatsQuery& query) {
  auto regex = compileFilter(query.filter);
  if (!regex.ok()) return regex.status();
  std::vector<HistogramSnapshot> out;
  if (query.type != StatTypeFilter::kAll && query.type != StatTypeFilter::kHistograms) return out;
  out.reserve(histograms.size());
  for (auto& h : histograms) {
    if (query.used_only && !h.used()) continue;
    if (*regex && !RE2::PartialMatch(h.name, **regex)) continue;
    out.push_back(std::move(h));
  }
  return out;
}

std::string renderText(const std::vector<Store::Entry>& entries,
                       const std::vector<HistogramSnapshot>& histograms) {
  std::string out;
  for (const auto& e : entries) absl::StrAppend(&out, e.name, ": ", valueString(e), "\n");
  for (const auto& h : histograms) {
    absl::StrAppend(&out, h.name, ": ");
    if (!h.used()) {
      out.append("No recorded values\n");
      continue;
    }
    for (size_t i = 0; i < kSupportedQuantiles.size(); ++i) {
      const std::string value = formatDouble(h.quantile(kSupportedQuantiles[i].fraction));
      absl::StrAppend(&out, i > 0 ? " " : "", kSupportedQuantiles[i].label, "(", value, ",", value,
                      ")");
    }
    out.push_back('\n');
  }
  return out;
}

std::string renderJson(const std::vector<Store::Entry>& entries,
                       const std::vector<HistogramSnapshot>& histograms) {
  std::string out = "{\"stats\":[";
  for (size_t i = 0; i < entries.size(); ++i) {
    if (i > 0) out.push_back(',');
    out.append("{\"name\":");
    admin::appendJsonString(out, entries[i].name);
    absl::StrAppend(&out, ",\"value\":", valueString(entries[i]), "}");
  }
  if (!histograms.empty()) {
    if (!entries.empty()) out.push_back(',');
    out.append("{\"histograms\":{\"supported_quantiles\":[");
    for (size_t i = 0; i < kSupportedQuantiles.size(); ++i) {
      // The label without its "P" is the percentage as Envoy writes it.
      absl::StrAppend(&out, i > 0 ? "," : "", kSupportedQuantiles[i].label + 1);
    }
    out.append("],\"computed_quantiles\":[");
    for (size_t i = 0; i < histograms.size(); ++i) {
      if (i > 0) out.push_back(',');
      out.append("{\"name\":");
      admin::appendJsonString(out, histograms[i].name);
      out.append(",\"values\":[");
      for (size_t q = 0; q < kSupportedQuantiles.size(); ++q) {
        const double v = histograms[i].quantile(kSupportedQuantiles[q].fraction);
        // JSON has no NaN; Envoy writes null for a quantile with no samples.
        const std::string value = std::isnan(v) ? "null" : formatDouble(v);
        absl::StrAppend(&out, q > 0 ? "," : "", "{\"interval\":", value, ",\"cumulative\":", value,
                        "}");
      }
      out.append("]}");
    }
    out.append("]}}");
  }
  out.append("]}");
  return out;
}

std::string renderPrometheus(const std::vector<Store::Entry>& entries,
                             const std::vector<HistogramSnapshot>& histograms) {
  std::vector<const Store::Entry*> counters, gauges;
  for (const auto& e : entries) (e.is_counter ? counters : gauges).push_back(&e);
  std::vector<const HistogramSnapshot*> histogram_ptrs;
  for (const auto& h : histograms) histogram_ptrs.push_back(&h);
  std::string out;
  appendGroups(out, counters, "counter");
  appendGroups(out, gauges, "gauge");
  appendHistogramGroups(out, histogram_ptrs);
  return out;
}

TaggedName extractTags(std::string_view stat_name) {
  // Envoy's envoy.cluster_name extractor: ^cluster\.((.*?)\.) — the first component after
  // "cluster.", removed together with its trailing dot.
  static constexpr std::string_view kCluster = "cluster.";
  if (stat_name.starts_with(kCluster)) {
    const size_t dot = stat_name.find('.', kCluster.size());
    if (dot != std::string_view::npos) {
      return {std::string(kCluster).append(stat_name.substr(dot + 1)),
              {{"envoy.cluster_name",
                std::string(stat_name.substr(kCluster.size(), dot - kCluster.size()))}}};
    }
  }
  return {std::string(stat_name), {}};
}

std::string prometheusMetricName(std::string_view tag_extracted_name) {
  return absl::StrCat("envoy_", sanitize(tag_extracted_name));
}

}  // namespace remora::stats
