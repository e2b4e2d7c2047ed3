// Default admin endpoints: each turns an AdminContext query into Envoy's response shape.
#include "source/admin/handlers.h"

#include "absl/strings/str_cat.h"
#include "source/admin/clusters_handler.h"
#include "source/admin/json_escape.h"
#include "source/admin/server_info.h"
#include "source/stats/text_format.h"

namespace remora::admin {
namespace {

AdminResponse text(int status, std::string body) {
  AdminResponse r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

AdminResponse json(std::string body) {
  AdminResponse r;
  r.content_type = kJsonContentType;
  r.body = std::move(body);
  return r;
}

struct SelectedStats {
  std::vector<stats::Store::Entry> stats;
  std::vector<stats::HistogramSnapshot> histograms;
};

// The ?usedonly / ?filter= / ?type= selection both stats endpoints share; 400 on a bad value.
absl::StatusOr<SelectedStats> selectedStats(const AdminContext& context,
                                            const QueryParams& params) {
  stats::StatsQuery query;
  query.used_only = params.contains("usedonly");
  if (const auto it = params.find("filter"); it != params.end()) query.filter = it->second;
  if (const auto it = params.find("type"); it != params.end()) {
    if (it->second == "Counters") {
      query.type = stats::StatTypeFilter::kCounters;
    } else if (it->second == "Gauges") {
      query.type = stats::StatTypeFilter::kGauges;
    } else if (it->second == "Histograms") {
      query.type = stats::StatTypeFilter::kHistograms;
    } else if (it->second != "All") {
      return absl::InvalidArgumentError(absl::StrCat(
          "invalid type '", it->second, "': expected All, Counters, Gauges or Histograms"));
    }
  }
  auto entries = stats::selectStats(context.stats().snapshot(), query);
  if (!entries.ok()) return entries.status();
  auto histograms = stats::selectHistograms(context.stats().histogramSnapshot(), query);
  if (!histograms.ok()) return histograms.status();
  return SelectedStats{*std::move(entries), *std::move(histograms)};
}

AdminResponse prometheus(const AdminContext& context, const QueryParams& params) {
  auto selected = selectedStats(context, params);
  if (!selected.ok()) return text(400, absl::StrCat(selected.status().message(), "\n"));
  return text(200, stats::renderPrometheus(selected->stats, selected->histograms));
}

AdminResponse statsHandler(const AdminContext& context, const QueryParams& params) {
  std::string format = "text";
  if (const auto it = params.find("format"); it != params.end()) format = it->second;
  if (format == "prometheus") return prometheus(context, params);
  if (format != "text" && format != "json") {
    return text(400,
                absl::StrCat("invalid format '", format, "': expected text, json or prometheus\n"));
  }
  auto selected = selectedStats(context, params);
  if (!selected.ok()) return text(400, absl::StrCat(selected.status().message(), "\n"));
  if (format == "json") return json(stats::renderJson(selected->stats, selected->histograms));
  return text(200, stats::renderText(selected->stats, selected->histograms));
}

std::string listenersJson(const std::vector<ListenerStatus>& listeners) {
  std::string out = "{\"listener_statuses\":[";
  for (size_t i = 0; i < listeners.size(); ++i) {
    const ListenerStatus& l = listeners[i];
    if (i > 0) out.push_back(',');
    absl::StrAppend(&out, "{\"name\":", jsonString(l.name), ",\"local_address\":");
    if (l.ip.empty()) {
      absl::StrAppend(&out, "{\"pipe\":{\"path\":", jsonString(l.address), "}}}");
    } else {
      absl::StrAppend(&out, "{\"socket_address\":{\"address\":", jsonString(l.ip),
                      ",\"port_value\":", l.port, "}}}");
    }
  }
  out.append("]}");
  return out;
}

AdminResponse listenersHandler(const AdminContext& context, const QueryParams& params) {
  const std::vector<ListenerStatus> listeners = context.listeners();
  if (const auto it = params.find("format"); it != params.end() && it->second == "json") {
    return json(listenersJson(listeners));
  }
  std::string out;
  for (const ListenerStatus& l : listeners) absl::StrAppend(&out, l.name, "::", l.address, "\n");
  return text(200, std::move(out));
}

}  // namespace

void registerDefaultHandlers(AdminServer& server, AdminContext& context) {
  const auto help = [&server](const QueryParams&) { return text(200, server.helpText()); };
  server.addHandler("/", "Admin home page", false, help);
  server.addHandler("/help", "print out list of admin commands", false, help);
  server.addHandler("/ready", "print server state, return 200 if LIVE, otherwise return 503", false,
                    [&context](const QueryParams&) {
                      const ServerState state = context.state();
                      return text(state == ServerState::kLive ? 200 : 503,
                                  std::string(serverStateName(state)) + "\n");
                    });
  server.addHandler("/server_info", "print server version/status information", false,
                    [&context](const QueryParams&) { return json(serverInfoJson(context)); });
  server.addHandler("/stats", "print server stats", false, [&context](const QueryParams& params) {
    return statsHandler(context, params);
  });
  server.addHandler("/stats/prometheus", "print server stats in prometheus format", false,
                    [&context](const QueryParams& params) { return prometheus(context, params); });
  server.addHandler(
      "/clusters", "upstream cluster status", false, [&context](const QueryParams& params) {
        const std::vector<ClusterInfo> clusters = context.clusters();
        if (const auto it = params.find("format"); it != params.end() && it->second == "json") {
          return json(clustersJson(clusters));
        }
        return text(200, clustersText(clusters));
      });
  server.addHandler("/config_dump", "dump current Envoy configs (experimental)", false,
                    [&context](const QueryParams& params) {
                      return json(context.configDumpJson(params.contains("include_eds")));
                    });
  server.addHandler(
      "/listeners", "print listener info", false,
      [&context](const QueryParams& params) { return listenersHandler(context, params); });
  server.addHandler("/quitquitquit", "exit the server", true, [&context](const QueryParams&) {
    AdminResponse r = text(200, "OK\n");
    r.after_sent = [&context] { context.requestShutdown(); };
    return r;
  });
}

}  // namespace remora::admin
