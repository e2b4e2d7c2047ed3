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
  if (cluster.original_dst != nullptr) {
    auto state = original_dst_.find(cluster.name);
    if (state == original_dst_.end()) return;
    auto it = state->second.hosts.find(host.address.asString());
    if (it != state->second.hosts.end() && it->second.host.get() == &host &&
        it->second.active > 0) {
      --it->second.active;
      it->second.last_used = std::chrono::steady_clock::now();
    }
    return;
  }
  auto it = states_.find(cluster.name);
  if (it != states_.end()) it->second->onRequestEnd(host);
}

std::shared_ptr<const Host> WorkerClusters::originalDstHost(const Cluster& cluster,
                                                            const network::Address& destination) {
  OriginalDstState& state = original_dst_[cluster.name];
  if (state.registry != cluster.original_dst_hosts) {
    // A new version of the cluster: its registry lists what this worker keeps.
    for (const auto& [address, kept] : state.hosts) {
      if (state.registry != nullptr) state.registry->remove(address);
      cluster.original_dst_hosts->add(address);
    }
    state.registry = cluster.original_dst_hosts;
  }
  state.cleanup_interval = cluster.original_dst->cleanup_interval;
  const uint32_t port_override = cluster.original_dst->upstream_port_override;
  const network::Address& target =
      port_override == 0 ? destination : destination.withPort(static_cast<uint16_t>(port_override));
  auto it = state.hosts.find(target.asString());
  if (it == state.hosts.end()) {
    DstHost made;
    made.host = std::make_shared<Host>();
    made.host->address = target;
    it = state.hosts.emplace(target.asString(), std::move(made)).first;
    state.registry->add(target.asString());
  }
  ++it->second.active;
  it->second.last_used = std::chrono::steady_clock::now();
  return it->second.host;
}

std::vector<std::pair<std::string, std::string>> WorkerClusters::sweepOriginalDst(
    std::chrono::steady_clock::time_point now) {
  std::vector<std::pair<std::string, std::string>> dropped;
  // Explicit captures: clang 14 (the ASan tree) cannot capture structured bindings.
  for (auto& [cluster_name, dst_state] : original_dst_) {
    absl::erase_if(dst_state.hosts,
                   [&, &cluster = cluster_name, &state = dst_state](const auto& kv) {
                     const DstHost& h = kv.second;
                     if (h.active > 0 || now - h.last_used < state.cleanup_interval) return false;
                     if (state.registry != nullptr) state.registry->remove(kv.first);
                     dropped.emplace_back(cluster, kv.first);
                     return true;
                   });
  }
  absl::erase_if(original_dst_, [](const auto& kv) { return kv.second.hosts.empty(); });
  return dropped;
}

void WorkerClusters::forgetOriginalDst(OriginalDstState& state) {
  if (state.registry == nullptr) return;
  for (const auto& [address, kept] : state.hosts) state.registry->remove(address);
}

}  // namespace remora::upstream
