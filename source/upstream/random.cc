#include "source/upstream/random.h"

#include <algorithm>

namespace remora::upstream {

RandomLoadBalancer::RandomLoadBalancer(HostSetConstSharedPtr hosts, uint64_t seed)
    : hosts_(std::move(hosts)), random_(seed) {
  if (hosts_->weightsEqual()) return;
  uint64_t total = 0;
  cumulative_weight_.reserve(hosts_->hosts.size());
  for (const Host& host : hosts_->hosts) cumulative_weight_.push_back(total += host.weight);
}

const Host* RandomLoadBalancer::chooseHost(const LoadBalancerContext*) {
  const auto& hosts = hosts_->hosts;
  if (hosts.empty()) return nullptr;
  if (cumulative_weight_.empty()) return &hosts[random_.below(hosts.size())];
  // The first host whose running total exceeds the draw owns it: host i owns weight(i) values.
  const uint64_t draw = random_.below(cumulative_weight_.back());
  const auto it = std::upper_bound(cumulative_weight_.begin(), cumulative_weight_.end(), draw);
  return &hosts[it - cumulative_weight_.begin()];
}

}  // namespace remora::upstream
