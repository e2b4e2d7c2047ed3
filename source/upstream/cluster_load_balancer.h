// A worker's balancer for one cluster: picks a priority level and bucket (healthy, degraded, or
// all hosts in panic) from the shared PrioritySet, then a locality when locality-weighted, then a
// host with the cluster's lb_policy over that source. Per-source pickers and locality schedules
// are this worker's own, created on first use; consistent-hash tables are the shared ones, so a
// request key maps to the same host on every worker.
#pragma once

#include <array>
#include <memory>
#include <optional>

#include "absl/container/flat_hash_map.h"
#include "api/upstream/load_balancer.h"
#include "source/upstream/cluster.h"
#include "source/upstream/edf_scheduler.h"
#include "source/upstream/priority_set.h"
#include "source/upstream/random.h"

namespace remora::upstream {

class ClusterLoadBalancer : public LoadBalancer {
 public:
  // `cluster` must carry a priority_set; the balancer keeps it (and so the hosts) alive.
  ClusterLoadBalancer(const Cluster& cluster, uint64_t seed, uint32_t worker_index);

  const Host* chooseHost(const LoadBalancerContext* context) override;
  void onRequestStart(const Host& host) override;
  void onRequestEnd(const Host& host) override;

  const PrioritySetConstSharedPtr& prioritySet() const { return priority_set_; }

 private:
  // One pick, ignoring retry host predicates; `attempt` varies consistent-hash picks.
  const Host* chooseOnce(const LoadBalancerContext* context, uint32_t attempt);
  const Host* chooseHashed(const LoadBalancerContext* context, uint32_t attempt);
  // The locality (index into the level's localities) a locality-weighted pick uses; nullopt when
  // no locality of the level has available hosts of that bucket.
  std::optional<uint32_t> chooseLocality(uint32_t priority, HostSource source);
  LoadBalancer& picker(uint32_t priority, HostSource source, std::optional<uint32_t> locality);

  PrioritySetConstSharedPtr priority_set_;
  LbPolicy policy_;
  LeastRequestConfig least_request_;
  uint32_t worker_index_;
  std::shared_ptr<ClusterStats> stats_;
  bool locality_weighted_;
  FastRandom random_;
  // Keyed by (priority, source, locality + 1 or 0).
  absl::flat_hash_map<uint64_t, std::unique_ptr<LoadBalancer>> pickers_;
  struct LocalitySchedule {
    EdfScheduler edf;
    std::vector<double> weights;  // Effective weight by locality position; 0 = never picked.
  };
  // Keyed by priority * 2 + source (healthy or degraded).
  absl::flat_hash_map<uint64_t, std::optional<LocalitySchedule>> locality_schedules_;
};

}  // namespace remora::upstream
