#include "source/upstream/worker_clusters.h"

#include <random>

#include "source/upstream/least_request.h"
#include "source/upstream/round_robin.h"

namespace remora::upstream {

namespace {
uint64_t entropySeed(uint32_t worker_index) {
  std::random_device device;
  return ((uint64_t{device()} << 32) | device()) ^ worker_index;
}

bool sameConfig(const LeastRequestConfig& a, const LeastRequestConfig& b) {
  return a.choice_count == b.choice_count && a.active_request_bias == b.active_request_bias;
}
}  // namespace

WorkerClusters::WorkerClusters(uint32_t worker_index)
    : worker_index_(worker_index), seeds_(entropySeed(worker_index)) {}

LoadBalancer& WorkerClusters::loadBalancer(const Cluster& cluster) {
  State& state = states_[cluster.name];
  if (state.lb == nullptr || state.hosts != cluster.host_set || state.policy != cluster.lb_policy ||
      !sameConfig(state.least_request, cluster.least_request)) {
    state.hosts = cluster.host_set;
    state.policy = cluster.lb_policy;
    state.least_request = cluster.least_request;
    state.lb = makeLoadBalancer(cluster);
  }
  return *state.lb;
}

void WorkerClusters::onRequestEnd(const Cluster& cluster, const Host& host) {
  auto it = states_.find(cluster.name);
  if (it != states_.end() && it->second.lb != nullptr) it->second.lb->onRequestEnd(host);
}

std::unique_ptr<LoadBalancer> WorkerClusters::makeLoadBalancer(const Cluster& cluster) {
  switch (cluster.lb_policy) {
    case LbPolicy::kLeastRequest:
      return std::make_unique<LeastRequestLoadBalancer>(cluster.host_set, cluster.least_request,
                                                        seeds_.next());
    case LbPolicy::kRandom:
      return std::make_unique<RandomLoadBalancer>(cluster.host_set, seeds_.next());
    case LbPolicy::kRoundRobin:
      break;
  }
  return std::make_unique<RoundRobinLoadBalancer>(cluster.host_set, worker_index_);
}

}  // namespace remora::upstream
