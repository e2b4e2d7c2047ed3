#include "source/upstream/worker_clusters.h"

#include "source/upstream/round_robin.h"

namespace remora::upstream {

LoadBalancer& WorkerClusters::loadBalancer(const Cluster& cluster) {
  State& state = states_[cluster.name];
  if (state.lb == nullptr || state.hosts != cluster.host_set) {
    state.hosts = cluster.host_set;
    state.lb = std::make_unique<RoundRobinLoadBalancer>(cluster.host_set, worker_index_);
  }
  return *state.lb;
}

}  // namespace remora::upstream
