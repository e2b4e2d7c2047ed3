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
  // The retry host predicates (previous_hosts): a host picked for this attempt that the predicate
  // rejects is picked again, up to hostSelectionRetryCount() more times; the last pick stands.
  virtual uint32_t hostSelectionRetryCount() const { return 0; }
  virtual bool shouldSelectAnotherHost(const Host& host) const { return false; }
};

class LoadBalancer {
 public:
  virtual ~LoadBalancer() = default;
  // Picks the host for one connection or request; nullptr when the cluster has no host to offer.
  // The host stays valid while the caller holds the cluster's host set.
  virtual const Host* chooseHost(const LoadBalancerContext* context) = 0;
  // The router brackets each upstream request with these, on the balancer's worker, so policies
  // that weigh load (LEAST_REQUEST) see this worker's requests in flight. `host` may come from a
  // host set this balancer no longer serves (replaced mid-request): that is ignored. The caller
  // holds the host's set until onRequestEnd, so its address is never reused meanwhile.
  virtual void onRequestStart(const Host& host) {}
  virtual void onRequestEnd(const Host& host) {}
};

}  // namespace remora::upstream
