// ROUND_ROBIN: hosts in turn, each worker with its own cursor; weighted round robin (an EDF
// schedule) when the hosts' load_balancing_weight values differ, as Envoy does.
#pragma once

#include <optional>
#include <vector>

#include "api/upstream/load_balancer.h"
#include "source/upstream/edf_scheduler.h"
#include "source/upstream/host_set.h"

namespace remora::upstream {

class RoundRobinLoadBalancer : public LoadBalancer {
 public:
  // Workers start at different offsets so N workers don't all hit the same host first.
  RoundRobinLoadBalancer(HostSetConstSharedPtr hosts, uint32_t start_offset);
  // Over `members` of the set only (one priority level's healthy hosts, say).
  RoundRobinLoadBalancer(HostSetConstSharedPtr hosts, HostIndexes members, uint32_t start_offset);
  const Host* chooseHost(const LoadBalancerContext* context) override;

 private:
  HostSetConstSharedPtr hosts_;
  HostIndexes members_;
  size_t next_ = 0;  // Equal weights: plain rotation over members_.
  // Weights differ: member i's k-th turn falls due at k / weight(i).
  std::optional<EdfScheduler> weighted_;
  std::vector<uint64_t> turns_;  // Picks so far, by member position.
};

}  // namespace remora::upstream
