// Circuit breakers: a cluster's limits on connections, pending requests, requests and retries at
// one routing priority (DEFAULT or HIGH), counted across every worker. Counts are atomics (no
// locks on the request path); a limit is checked before taking a unit, so concurrent workers may
// overshoot by at most one unit each, as Envoy's do.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "source/stats/store.h"

namespace remora::upstream {

enum class RoutingPriority : uint8_t { kDefault = 0, kHigh = 1 };

// CircuitBreakers.Thresholds, with Envoy's defaults.
struct CircuitBreakerConfig {
  struct RetryBudget {
    double budget_percent = 20.0;
    uint32_t min_retry_concurrency = 3;
  };
  uint64_t max_connections = 1024;
  uint64_t max_pending_requests = 1024;
  uint64_t max_requests = 1024;
  uint64_t max_retries = 3;
  // Set: retries may be budget_percent of requests active and pending (at least
  // min_retry_concurrency), and max_retries does not apply.
  std::optional<RetryBudget> retry_budget;
  bool track_remaining = false;  // Publish the remaining_* gauges.
};

// One limited resource. `open` is 1 while the count is at or above the limit; `remaining` (when
// tracked) is how many units are left.
class Resource {
 public:
  Resource(uint64_t max, stats::Gauge& open, stats::Gauge* remaining);
  bool canCreate() const { return count() < max(); }
  void inc();
  void dec();
  uint64_t count() const { return count_.load(std::memory_order_relaxed); }
  virtual uint64_t max() const { return max_; }
  virtual ~Resource() = default;

 protected:
  uint64_t max_;
  std::atomic<uint64_t> count_{0};
  stats::Gauge& open_;
  stats::Gauge* remaining_;
};

// Circuit breakers of one cluster at one priority; shared (shared_ptr) by the cluster's versions
// in flight, so a request started under an old version releases what it took there.
class ResourceManager {
 public:
  // Stats under cluster.<cluster>.circuit_breakers.<default|high>.
  ResourceManager(const CircuitBreakerConfig& config, stats::Store& store,
                  const std::string& cluster, RoutingPriority priority);
  Resource& connections() { return connections_; }
  Resource& pendingRequests() { return pending_; }
  Resource& requests() { return requests_; }
  Resource& retries() { return *retries_; }

 private:
  Resource connections_;
  Resource pending_;
  Resource requests_;
  std::unique_ptr<Resource> retries_;
};

// Both priorities of a cluster.
struct ClusterResources {
  std::unique_ptr<ResourceManager> by_priority[2];
  ResourceManager& at(RoutingPriority priority) {
    return *by_priority[static_cast<size_t>(priority)];
  }
};
using ClusterResourcesSharedPtr = std::shared_ptr<ClusterResources>;

}  // namespace remora::upstream
