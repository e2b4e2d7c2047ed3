#include "source/upstream/round_robin.h"

namespace remora::upstream {

RoundRobinLoadBalancer::RoundRobinLoadBalancer(HostSetConstSharedPtr hosts, uint32_t start_offset)
    : hosts_(std::move(hosts)),
      next_(hosts_->hosts.empty() ? 0 : start_offset % hosts_->hosts.size()) {}

const Host* RoundRobinLoadBalancer::chooseHost(const LoadBalancerContext*) {
  const auto& hosts = hosts_->hosts;
  if (hosts.empty()) return nullptr;
  const Host* host = &hosts[next_];
  next_ = next_ + 1 == hosts.size() ? 0 : next_ + 1;
  return host;
}

}  // namespace remora::upstream
