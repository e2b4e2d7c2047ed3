// A worker's own state for the clusters of its current snapshot: one load balancer per cluster,
// rebuilt only when that cluster's priority set (hosts, health or balancing settings) changes;
// never shared.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <utility>
#include <vector>

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

  // ORIGINAL_DST: this worker's host for `destination` (its port replaced by
  // upstream_port_override when set), made on first use. It stays while requests use it and
  // until it has been unused for the cluster's cleanup_interval. Counts the request as started;
  // the caller holds the host until onRequestEnd(), as the cluster may go meanwhile.
  std::shared_ptr<const Host> originalDstHost(const Cluster& cluster,
                                              const network::Address& destination);
  // Drops ORIGINAL_DST hosts unused for their cluster's cleanup_interval and with no request in
  // flight; returns them as (cluster, address) so their connections can be closed.
  std::vector<std::pair<std::string, std::string>> sweepOriginalDst(
      std::chrono::steady_clock::time_point now);
  bool hasOriginalDstHosts() const { return !original_dst_.empty(); }
  // Drops state for clusters no longer in `is_live` (called after each snapshot swap).
  template <class Pred>
  void retainIf(Pred is_live) {
    absl::erase_if(states_, [&](const auto& kv) { return !is_live(kv.first); });
    absl::erase_if(original_dst_, [&](auto& kv) {
      if (is_live(kv.first)) return false;
      forgetOriginalDst(kv.second);
      return true;
    });
  }

 private:
  struct DstHost {
    std::shared_ptr<Host> host;
    uint32_t active = 0;
    std::chrono::steady_clock::time_point last_used;
  };
  struct OriginalDstState {
    std::shared_ptr<OriginalDstHosts> registry;  // What /clusters lists, across workers.
    std::chrono::milliseconds cleanup_interval{0};
    absl::flat_hash_map<std::string, DstHost> hosts;  // By address text.
  };
  static void forgetOriginalDst(OriginalDstState& state);

  uint32_t worker_index_;
  FastRandom seeds_;  // One seed per balancer built, different on every worker and every run.
  absl::flat_hash_map<std::string, std::unique_ptr<ClusterLoadBalancer>> states_;
  absl::flat_hash_map<std::string, OriginalDstState> original_dst_;  // By cluster name.
};

}  // namespace remora::upstream
