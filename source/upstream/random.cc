#include "source/upstream/random.h"

#include <algorithm>

namespace remora::upstream {

RandomLoadBalancer::RandomLoadBalancer(HostSetConstSharedPtr hosts, uint64_t seed)
    : RandomLoadBalancer(hosts, allHosts(*hosts), seed) {}

RandomLoadBalancer::RandomLoadBalancer(HostSetConstSharedPtr hosts, HostIndexes members,
                                       uint64_t seed)
    : hosts_(std::move(hosts)), members_(std::move(members)), random_(seed) {
  if (weightsEqual(*hosts_, members_)) return;
  uint64_t total = 0;
  cumulative_weight_.reserve(members_.size());
  for (uint32_t index : members_)
    cumulative_weight_.push_back(total += hosts_->hosts[index].weight);
}

const Host* RandomLoadBalancer::chooseHost(const LoadBalancerContext*) {
  const auto& hosts = hosts_->hosts;
  if (members_.empty()) return nullptr;
  if (cumulative_weight_.empty()) return &hosts[members_[random_.below(members_.size())]];
  // The first host whose running total exceeds the draw owns it: host i owns weight(i) values.
  const uint64_t draw = random_.below(cumulative_weight_.back());
  const auto it = std::upper_bound(cumulative_weight_.begin(), cumulative_weight_.end(), draw);
  return &hosts[members_[it - cumulative_weight_.begin()]];
}

}  // namespace remora::upstream
