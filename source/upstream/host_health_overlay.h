// The main thread's view of host health beyond what the config says: it runs the active health
// checker and the outlier detector of every cluster that has them, and lays their verdicts over
// the clusters it is given as Host::failed_active_health_check and Host::outlier_ejected in new
// host sets (which also carry each host's outlier monitor for workers to report to). Workers see
// verdicts only through the next published snapshot, never through shared mutable state.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "source/event/coalesced_callback.h"
#include "source/event/dispatcher.h"
#include "source/stats/store.h"
#include "source/upstream/cluster.h"

namespace remora::upstream {

class HealthChecker;
class OutlierDetector;

class HostHealthOverlay {
 public:
  using Clusters = absl::flat_hash_map<std::string, ClusterConstSharedPtr>;

  // `on_change` runs on the main loop, at most once per loop turn however many verdicts changed,
  // when apply() would now give a different answer or a first round of checks ended.
  HostHealthOverlay(event::Dispatcher& dispatcher, stats::Store& store,
                    std::function<void()> on_change);
  ~HostHealthOverlay();
  HostHealthOverlay(const HostHealthOverlay&) = delete;
  HostHealthOverlay& operator=(const HostHealthOverlay&) = delete;

  // Starts, updates or stops checkers to match `clusters`, and returns them with the verdicts
  // applied; nullopt when no cluster is checked. A checked cluster whose verdicts and input are
  // unchanged since the last call comes back as the same pointer, so workers keep their
  // balancers.
  std::optional<Clusters> apply(const Clusters& clusters);

  // Every checked cluster has had one check of each of its hosts: what warming waits for.
  bool warmed() const;

  // How often the cluster's traffic counter is looked at, for no_traffic_interval.
  static constexpr std::chrono::milliseconds kTrafficPoll{1000};

 private:
  struct Entry;

  void changed();
  // (Re)starts or stops the entry's checker or detector for `cluster`'s config.
  void startChecker(const std::string& name, const Cluster& cluster, Entry& entry);
  void startDetector(const std::string& name, const Cluster& cluster, Entry& entry);
  void pollTraffic();

  event::Dispatcher& dispatcher_;
  stats::Store& store_;
  event::CoalescedCallback notify_;  // on_change, once per loop turn.
  absl::flat_hash_map<std::string, std::unique_ptr<Entry>> entries_;
  event::TimerPtr traffic_timer_;
};

}  // namespace remora::upstream
