#include "source/upstream/host_health_overlay.h"

#include <utility>
#include <vector>

#include "source/upstream/health_check_config.h"
#include "source/upstream/health_checker.h"
#include "source/upstream/outlier_detector.h"

namespace remora::upstream {

struct HostHealthOverlay::Entry {
  // Active checks; null when the cluster has none.
  std::string check_fingerprint;
  std::unique_ptr<HealthChecker> checker;
  // Outlier detection; null when the cluster has none.
  std::string outlier_fingerprint;
  std::unique_ptr<OutlierDetector> detector;
  std::shared_ptr<ClusterStats> stats;  // Of the latest input: upstream_cx_total for traffic.
  bool had_traffic = false;
  // Bumped by every verdict change; an output is reused while its input and this are unchanged.
  uint64_t verdicts = 0;
  // Held, not just compared: a freed input's address could come back as another cluster.
  ClusterConstSharedPtr input;
  HostSetConstSharedPtr input_hosts;
  uint64_t output_verdicts = 0;
  ClusterConstSharedPtr output;
  // While a new check has not finished its first round, the version before it keeps serving, as
  // a warming cluster does in Envoy.
  ClusterConstSharedPtr previous;
  // The first round has ended once: hosts added later are unverified, but the cluster serves.
  bool warmed = true;
};

namespace {

std::vector<network::Address> addressesOf(const HostSet& set) {
  std::vector<network::Address> out;
  out.reserve(set.hosts.size());
  for (const Host& host : set.hosts) out.push_back(host.address);
  return out;
}

}  // namespace

HostHealthOverlay::HostHealthOverlay(event::Dispatcher& dispatcher, stats::Store& store,
                                     std::function<void()> on_change)
    : dispatcher_(dispatcher),
      store_(store),
      notify_(dispatcher, std::move(on_change)),
      traffic_timer_(dispatcher.createTimer([this] { pollTraffic(); })) {}

HostHealthOverlay::~HostHealthOverlay() = default;

void HostHealthOverlay::changed() { notify_.trigger(); }

std::optional<HostHealthOverlay::Clusters> HostHealthOverlay::apply(const Clusters& clusters) {
  // Copied only once a cluster differs: most snapshots have no checked cluster.
  std::optional<Clusters> out;
  auto replace = [&](const std::string& name, const ClusterConstSharedPtr* with) {
    if (!out) out.emplace(clusters);
    if (with != nullptr) {
      (*out)[name] = *with;
    } else {
      out->erase(name);
    }
  };
  bool waiting_for_traffic = false;
  for (const auto& [name, cluster] : clusters) {
    if (cluster->health_check == nullptr && cluster->outlier_detection == nullptr) continue;
    auto& slot = entries_[name];
    if (slot == nullptr) slot = std::make_unique<Entry>();
    Entry& entry = *slot;
    const bool new_hosts = entry.input_hosts != cluster->host_set;
    if ((cluster->health_check != nullptr) != (entry.checker != nullptr) ||
        (entry.checker != nullptr &&
         entry.check_fingerprint != cluster->health_check_fingerprint)) {
      startChecker(name, *cluster, entry);
    } else if (new_hosts && entry.checker != nullptr) {
      entry.checker->setHosts(addressesOf(*cluster->host_set));
    }
    if ((cluster->outlier_detection != nullptr) != (entry.detector != nullptr) ||
        (entry.detector != nullptr &&
         entry.outlier_fingerprint != cluster->outlier_detection_fingerprint)) {
      startDetector(name, *cluster, entry);
    } else if (new_hosts && entry.detector != nullptr) {
      entry.detector->setHosts(addressesOf(*cluster->host_set));
    }
    entry.stats = cluster->stats;
    if (entry.output == nullptr || entry.input != cluster || new_hosts ||
        entry.output_verdicts != entry.verdicts) {
      auto hosts = std::make_shared<HostSet>(*cluster->host_set);
      for (Host& host : hosts->hosts) {
        const std::string address = host.address.asString();
        if (entry.checker != nullptr) {
          host.failed_active_health_check = !entry.checker->healthy(address).value_or(false);
        }
        if (entry.detector != nullptr) {
          host.outlier_ejected = entry.detector->ejected(address);
          host.outlier = entry.detector->monitor(address);
        }
      }
      auto copy = std::make_shared<Cluster>(*cluster);
      copy->host_set = std::move(hosts);
      refreshHosts(*copy);
      entry.output = std::move(copy);
      entry.input = cluster;
      entry.input_hosts = cluster->host_set;
      entry.output_verdicts = entry.verdicts;
    }
    entry.warmed = entry.warmed || entry.checker == nullptr || entry.checker->firstRoundDone();
    if (!entry.warmed) {
      // Warming: a cluster is served only once each of its hosts has a verdict. Until then the
      // version before the change serves, or, for a new cluster, none (requests to it fail as
      // for an unknown cluster, as in Envoy).
      replace(name, entry.previous != nullptr ? &entry.previous : nullptr);
    } else {
      entry.previous.reset();
      replace(name, &entry.output);
    }
    if (entry.checker != nullptr && !entry.had_traffic) waiting_for_traffic = true;
  }
  absl::erase_if(entries_, [&](const auto& kv) {
    auto it = clusters.find(kv.first);
    return it == clusters.end() ||
           (it->second->health_check == nullptr && it->second->outlier_detection == nullptr);
  });
  if (waiting_for_traffic && !traffic_timer_->enabled()) traffic_timer_->enable(kTrafficPoll);
  if (!waiting_for_traffic) traffic_timer_->disable();
  return out;
}

bool HostHealthOverlay::warmed() const {
  for (const auto& [name, entry] : entries_) {
    if (!entry->warmed && entry->checker != nullptr && !entry->checker->firstRoundDone()) {
      return false;
    }
  }
  return true;
}

void HostHealthOverlay::startChecker(const std::string& name, const Cluster& cluster,
                                     Entry& entry) {
  entry.checker.reset();
  entry.check_fingerprint = cluster.health_check_fingerprint;
  ++entry.verdicts;
  if (cluster.health_check == nullptr) {
    // Checks removed: nothing left to warm up for.
    entry.warmed = true;
    entry.previous.reset();
    return;
  }
  // A new or changed check starts afresh: its hosts are unverified again, and the version
  // served so far stays until they have been checked.
  entry.previous = entry.output;
  entry.warmed = false;
  entry.had_traffic = false;
  entry.checker = std::make_unique<HealthChecker>(dispatcher_, *cluster.health_check, name, store_,
                                                  [this, &entry](const std::string&, bool) {
                                                    ++entry.verdicts;
                                                    changed();
                                                  });
  entry.checker->setOnFirstRoundDone([this] { changed(); });
  entry.checker->setOnCheckPassed([&entry](const std::string& address) {
    if (entry.detector != nullptr) entry.detector->onActiveHealthCheckPassed(address);
  });
  entry.checker->setHosts(addressesOf(*cluster.host_set));
}

void HostHealthOverlay::startDetector(const std::string& name, const Cluster& cluster,
                                      Entry& entry) {
  entry.detector.reset();
  entry.outlier_fingerprint = cluster.outlier_detection_fingerprint;
  ++entry.verdicts;
  if (cluster.outlier_detection == nullptr) return;
  entry.detector =
      std::make_unique<OutlierDetector>(dispatcher_, *cluster.outlier_detection, name, store_,
                                        [this, &entry](const std::string&, bool) {
                                          ++entry.verdicts;
                                          changed();
                                        });
  entry.detector->setHosts(addressesOf(*cluster.host_set));
}

void HostHealthOverlay::pollTraffic() {
  bool waiting = false;
  for (auto& [name, entry] : entries_) {
    if (entry->had_traffic || entry->checker == nullptr) continue;
    // Envoy's test for "has had traffic": the cluster ever opened an upstream connection.
    if (entry->stats != nullptr && entry->stats->upstream_cx_total.value() > 0) {
      entry->had_traffic = true;
      entry->checker->setHadTraffic(true);
    } else {
      waiting = true;
    }
  }
  if (waiting) traffic_timer_->enable(kTrafficPoll);
}

}  // namespace remora::upstream
