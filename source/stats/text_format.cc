// /stats renderings (text, JSON, Prometheus) and the selection of which stats they show.
#include "source/stats/text_format.h"

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

void appendGroups(std::string& out, const std::vector<const Store::Entry*>& entries,
                  const char* type) {
  struct Sample {
    const Store::Entry* entry;
    TaggedName tagged;
  };
  // Keyed by tag-extracted name so every sample of one metric lands in a single group, as the
  // exposition format requires; within a group the entries keep their name order.
  std::map<std::string, std::vector<Sample>> groups;
  for (const Store::Entry* e : entries) {
    TaggedName tagged = extractTags(e->name);
    auto& group = groups[tagged.tag_extracted_name];
    group.push_back({e, std::move(tagged)});
  }
  for (const auto& [extracted, samples] : groups) {
    const std::string metric = prometheusMetricName(extracted);
    absl::StrAppend(&out, "# TYPE ", metric, " ", type, "\n");
    for (const Sample& s : samples) {
      absl::StrAppend(&out, metric, "{");
      for (size_t i = 0; i < s.tagged.tags.size(); ++i) {
        if (i > 0) out.push_back(',');
        absl::StrAppend(&out, sanitize(s.tagged.tags[i].first), "=\"");
        appendLabelValue(out, s.tagged.tags[i].second);
        out.push_back('"');
      }
      absl::StrAppend(&out, "} ", valueString(*s.entry), "\n");
    }
    out.push_back('\n');
  }
}

}  // namespace

absl::StatusOr<std::vector<Store::Entry>> selectStats(std::vector<Store::Entry> entries,
                                                      const StatsQuery& query) {
  std::unique_ptr<RE2> regex;
  if (!query.filter.empty()) {
    RE2::Options options;
    options.set_log_errors(false);
    regex = std::make_unique<RE2>(query.filter, options);
    if (!regex->ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("Invalid re2 regex '", query.filter, "': ", regex->error()));
    }
  }
  std::vector<Store::Entry> out;
  out.reserve(entries.size());
  for (auto& e : entries) {
    if (query.type == StatTypeFilter::kCounters && !e.is_counter) continue;
    if (query.type == StatTypeFilter::kGauges && e.is_counter) continue;
    if (query.used_only && !e.used && e.value == 0) continue;
    if (regex && !RE2::PartialMatch(e.name, *regex)) continue;
    out.push_back(std::move(e));
  }
  return out;
}

std::string renderText(const std::vector<Store::Entry>& entries) {
  std::string out;
  for (const auto& e : entries) absl::StrAppend(&out, e.name, ": ", valueString(e), "\n");
  return out;
}

std::string renderJson(const std::vector<Store::Entry>& entries) {
  std::string out = "{\"stats\":[";
  for (size_t i = 0; i < entries.size(); ++i) {
    if (i > 0) out.push_back(',');
    out.append("{\"name\":");
    admin::appendJsonString(out, entries[i].name);
    absl::StrAppend(&out, ",\"value\":", valueString(entries[i]), "}");
  }
  out.append("]}");
  return out;
}

std::string renderPrometheus(const std::vector<Store::Entry>& entries) {
  std::vector<const Store::Entry*> counters, gauges;
  for (const auto& e : entries) (e.is_counter ? counters : gauges).push_back(&e);
  std::string out;
  appendGroups(out, counters, "counter");
  appendGroups(out, gauges, "gauge");
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
