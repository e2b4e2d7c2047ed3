#include "source/upstream/resource_manager.h"

#include <algorithm>
#include <cmath>

namespace remora::upstream {

namespace {

// A retry budget's limit moves with load: a share of the requests active and waiting.
class BudgetedRetries : public Resource {
 public:
  BudgetedRetries(const CircuitBreakerConfig::RetryBudget& budget, const Resource& requests,
                  const Resource& pending, stats::Gauge& open, stats::Gauge* remaining)
      : Resource(budget.min_retry_concurrency, open, remaining),
        budget_(budget),
        requests_(requests),
        pending_(pending) {}
  uint64_t max() const override {
    const double load = static_cast<double>(requests_.count() + pending_.count());
    const auto share = static_cast<uint64_t>(load * budget_.budget_percent / 100.0);
    return std::max<uint64_t>(share, budget_.min_retry_concurrency);
  }

 private:
  CircuitBreakerConfig::RetryBudget budget_;
  const Resource& requests_;
  const Resource& pending_;
};

std::string prefix(const std::string& cluster, RoutingPriority priority) {
  return "cluster." + cluster + ".circuit_breakers." +
         (priority == RoutingPriority::kHigh ? "high." : "default.");
}

}  // namespace

Resource::Resource(uint64_t max, stats::Gauge& open, stats::Gauge* remaining)
    : max_(max), open_(open), remaining_(remaining) {
  open_.set(max_ == 0 ? 1 : 0);
  if (remaining_ != nullptr) remaining_->set(static_cast<int64_t>(max_));
}

void Resource::inc() {
  const uint64_t before = count_.fetch_add(1, std::memory_order_relaxed);
  const uint64_t limit = max();
  // Gauges move by steps at the limit's edge only, so they stay balanced whatever the order in
  // which workers cross it.
  if (before + 1 == limit) open_.inc();
  if (remaining_ != nullptr && before < limit) remaining_->dec();
}

void Resource::dec() {
  const uint64_t before = count_.fetch_sub(1, std::memory_order_relaxed);
  const uint64_t limit = max();
  if (before == limit) open_.dec();
  if (remaining_ != nullptr && before <= limit) remaining_->inc();
}

ResourceManager::ResourceManager(const CircuitBreakerConfig& config, stats::Store& store,
                                 const std::string& cluster, RoutingPriority priority)
    : connections_(config.max_connections, store.gauge(prefix(cluster, priority) + "cx_open"),
                   config.track_remaining ? &store.gauge(prefix(cluster, priority) + "remaining_cx")
                                          : nullptr),
      pending_(
          config.max_pending_requests, store.gauge(prefix(cluster, priority) + "rq_pending_open"),
          config.track_remaining ? &store.gauge(prefix(cluster, priority) + "remaining_pending")
                                 : nullptr),
      requests_(config.max_requests, store.gauge(prefix(cluster, priority) + "rq_open"),
                config.track_remaining ? &store.gauge(prefix(cluster, priority) + "remaining_rq")
                                       : nullptr) {
  stats::Gauge& open = store.gauge(prefix(cluster, priority) + "rq_retry_open");
  stats::Gauge* remaining = config.track_remaining
                                ? &store.gauge(prefix(cluster, priority) + "remaining_retries")
                                : nullptr;
  if (config.retry_budget) {
    retries_ = std::make_unique<BudgetedRetries>(*config.retry_budget, requests_, pending_, open,
                                                 remaining);
  } else {
    retries_ = std::make_unique<Resource>(config.max_retries, open, remaining);
  }
}

}  // namespace remora::upstream
