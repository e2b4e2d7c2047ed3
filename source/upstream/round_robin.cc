#include "source/upstream/round_robin.h"

namespace remora::upstream {

RoundRobinLoadBalancer::RoundRobinLoadBalancer(HostSetConstSharedPtr hosts, uint32_t start_offset)
    : RoundRobinLoadBalancer(hosts, allHosts(*hosts), start_offset) {}

RoundRobinLoadBalancer::RoundRobinLoadBalancer(HostSetConstSharedPtr hosts, HostIndexes members,
                                               uint32_t start_offset)
    : hosts_(std::move(hosts)), members_(std::move(members)) {
  if (members_.empty()) return;
  if (weightsEqual(*hosts_, members_)) {
    next_ = start_offset % members_.size();
    return;
  }
  weighted_.emplace();
  turns_.assign(members_.size(), 0);
  for (size_t i = 0; i < members_.size(); ++i) {
    weighted_->add(static_cast<uint32_t>(i), 1.0 / hosts_->hosts[members_[i]].weight);
  }
  // The offset advances the schedule rather than the host index, keeping the interleaving intact.
  for (size_t i = 0; i < start_offset % members_.size(); ++i) chooseHost(nullptr);
}

const Host* RoundRobinLoadBalancer::chooseHost(const LoadBalancerContext*) {
  if (members_.empty()) return nullptr;
  const auto& hosts = hosts_->hosts;
  if (weighted_) {
    const uint32_t position = weighted_->pop()->item;
    const Host& host = hosts[members_[position]];
    // Computed afresh rather than summed, so equal deadlines (3/3 and 1/1) compare equal.
    const double next_turn = static_cast<double>(++turns_[position] + 1);
    weighted_->add(position, next_turn / host.weight);
    return &host;
  }
  const Host* host = &hosts[members_[next_]];
  next_ = next_ + 1 == members_.size() ? 0 : next_ + 1;
  return host;
}

}  // namespace remora::upstream
