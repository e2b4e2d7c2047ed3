// LEAST_REQUEST as Envoy defines it: equal weights pick the least loaded of choice_count random
// hosts (P2C); differing weights use EDF over weight / (active + 1)^active_request_bias.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "api/upstream/load_balancer.h"
#include "source/upstream/cluster.h"
#include "source/upstream/edf_scheduler.h"
#include "source/upstream/host_set.h"
#include "source/upstream/random.h"

namespace remora::upstream {

// Load is this worker's requests in flight, as reported through onRequestStart/onRequestEnd.
class LeastRequestLoadBalancer : public LoadBalancer {
 public:
  LeastRequestLoadBalancer(HostSetConstSharedPtr hosts, const LeastRequestConfig& config,
                           uint64_t seed);
  // Over `members` of the set only (one priority level's healthy hosts, say).
  LeastRequestLoadBalancer(HostSetConstSharedPtr hosts, HostIndexes members,
                           const LeastRequestConfig& config, uint64_t seed);
  const Host* chooseHost(const LoadBalancerContext* context) override;
  void onRequestStart(const Host& host) override;
  void onRequestEnd(const Host& host) override;

  // This worker's requests in flight to `host`; 0 for a host outside this balancer's set.
  uint32_t activeRequests(const Host& host) const;

 private:
  const Host* chooseUnweighted();
  const Host* chooseWeighted();
  double effectiveWeight(size_t position) const;
  std::optional<size_t> positionOf(const Host& host) const;

  HostSetConstSharedPtr hosts_;
  HostIndexes members_;
  uint32_t choice_count_;
  double active_request_bias_;
  FastRandom random_;
  std::vector<uint32_t> active_;  // By member position.
  bool weighted_;
  EdfScheduler schedule_;  // Used when weighted_.
};

}  // namespace remora::upstream
