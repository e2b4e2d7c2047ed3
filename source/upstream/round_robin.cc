#include "source/upstream/round_robin.h"

namespace remora::upstream {

RoundRobinLoadBalancer::RoundRobinLoadBalancer(HostSetConstSharedPtr hosts, uint32_t start_offset)
    : hosts_(std::move(hosts)) {
  const auto& list = hosts_->hosts;
  if (list.empty()) return;
  if (hosts_->weightsEqual()) {
    next_ = start_offset % list.size();
    return;
  }
  weighted_.emplace();
  turns_.assign(list.size(), 0);
  for (size_t i = 0; i < list.size(); ++i) {
    weighted_->add(static_cast<uint32_t>(i), 1.0 / list[i].weight);
  }
  // The offset advances the schedule rather than the host index, keeping the interleaving intact.
  for (size_t i = 0; i < start_offset % list.size(); ++i) chooseHost(nullptr);
}

const Host* RoundRobinLoadBalancer::chooseHost(const LoadBalancerContext*) {
  const auto& hosts = hosts_->hosts;
  if (hosts.empty()) return nullptr;
  if (weighted_) {
    const uint32_t index = weighted_->pop()->item;
    // Computed afresh rather than summed, so equal deadlines (3/3 and 1/1) compare equal.
    const double next_turn = static_cast<double>(++turns_[index] + 1);
    weighted_->add(index, next_turn / hosts[index].weight);
    return &hosts[index];
  }
  const Host* host = &hosts[next_];
  next_ = next_ + 1 == hosts.size() ? 0 : next_ + 1;
  return host;
}

}  // namespace remora::upstream
