// ROUND_ROBIN: hosts in turn, each worker with its own cursor.
#pragma once

#include "api/upstream/load_balancer.h"
#include "source/upstream/cluster.h"

namespace remora::upstream {

class RoundRobinLoadBalancer : public LoadBalancer {
 public:
  // Workers start at different offsets so N workers don't all hit host 0 first.
  RoundRobinLoadBalancer(HostSetConstSharedPtr hosts, uint32_t start_offset);
  const Host* chooseHost(const LoadBalancerContext* context) override;

 private:
  HostSetConstSharedPtr hosts_;
  size_t next_;
};

}  // namespace remora::upstream
