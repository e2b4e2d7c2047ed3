// A worker's own state for the clusters of its current snapshot: one load balancer per cluster,
// rebuilt only when that cluster's host set changes (by pointer), never shared across threads.
#pragma once

#include <memory>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "api/upstream/load_balancer.h"
#include "source/upstream/cluster.h"

namespace remora::upstream {

class WorkerClusters {
 public:
  explicit WorkerClusters(uint32_t worker_index) : worker_index_(worker_index) {}
  // The balancer for `cluster`, created or rebuilt when its host set differs from last time.
  LoadBalancer& loadBalancer(const Cluster& cluster);
  // Drops state for clusters no longer in `is_live` (called after each snapshot swap).
  template <class Pred>
  void retainIf(Pred is_live) {
    absl::erase_if(states_, [&](const auto& kv) { return !is_live(kv.first); });
  }

 private:
  struct State {
    HostSetConstSharedPtr hosts;
    std::unique_ptr<LoadBalancer> lb;
  };
  uint32_t worker_index_;
  absl::flat_hash_map<std::string, State> states_;
};

}  // namespace remora::upstream
