// The load balancer interface: one instance per cluster per worker, so implementations keep
// their cursors and counters without locks. lb_policy picks the implementation.
#pragma once

#include <cstdint>
#include <optional>

namespace remora::upstream {

struct Host;

// What a balancer may consult about the request or connection being balanced.
class LoadBalancerContext {
 public:
  virtual ~LoadBalancerContext() = default;
  // A hash of the request's key for consistent-hash policies; empty when there is none.
  virtual std::optional<uint64_t> hashKey() const = 0;
};

class LoadBalancer {
 public:
  virtual ~LoadBalancer() = default;
  // Picks the host for one connection or request; nullptr when the cluster has no host to offer.
  // The host stays valid while the caller holds the cluster's host set.
  virtual const Host* chooseHost(const LoadBalancerContext* context) = 0;
};

}  // namespace remora::upstream
