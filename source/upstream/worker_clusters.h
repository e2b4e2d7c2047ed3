// A worker's own state for the clusters of its current snapshot: one load balancer per cluster,
// rebuilt only when that cluster's priority set (hosts, health or balancing settings) changes;
// never shared.
#pragma once

#include <memory>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "api/upstream/load_balancer.h"
#include "source/upstream/cluster.h"
#include "source/upstream/cluster_load_balancer.h"
#include "source/upstream/random.h"

namespace remora::upstream {

class WorkerClusters {
 public:
  explicit WorkerClusters(uint32_t worker_index);
  // The balancer for `cluster`, created or rebuilt when its priority set differs from last time.
  // A rebuilt balancer starts with no requests in flight; ends of requests started on the old one
  // are ignored (LoadBalancer::onRequestEnd).
  LoadBalancer& loadBalancer(const Cluster& cluster);
  // The end of a request started on loadBalancer(cluster), told to the balancer serving it now:
  // the one the request started on may have been rebuilt (new hosts) or dropped (cluster gone)
  // since, and a balancer ignores hosts of a set it does not serve.
  void onRequestEnd(const Cluster& cluster, const Host& host);
  // Drops state for clusters no longer in `is_live` (called after each snapshot swap).
  template <class Pred>
  void retainIf(Pred is_live) {
    absl::erase_if(states_, [&](const auto& kv) { return !is_live(kv.first); });
  }

 private:
  uint32_t worker_index_;
  FastRandom seeds_;  // One seed per balancer built, different on every worker and every run.
  absl::flat_hash_map<std::string, std::unique_ptr<ClusterLoadBalancer>> states_;
};

}  // namespace remora::upstream
