#include "source/upstream/worker_clusters.h"

#include <random>

namespace remora::upstream {

namespace {
uint64_t entropySeed(uint32_t worker_index) {
  std::random_device device;
  return ((uint64_t{device()} << 32) | device()) ^ worker_index;
}
}  // namespace

WorkerClusters::WorkerClusters(uint32_t worker_index)
    : worker_index_(worker_index), seeds_(entropySeed(worker_index)) {}

LoadBalancer& WorkerClusters::loadBalancer(const Cluster& cluster) {
  auto& lb = states_[cluster.name];
  if (lb == nullptr || lb->prioritySet() != cluster.priority_set) {
    lb = std::make_unique<ClusterLoadBalancer>(cluster, seeds_.next(), worker_index_);
  }
  return *lb;
}

void WorkerClusters::onRequestEnd(const Cluster& cluster, const Host& host) {
  auto it = states_.find(cluster.name);
  if (it != states_.end()) it->second->onRequestEnd(host);
}

}  // namespace remora::upstream
