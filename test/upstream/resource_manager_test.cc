// Circuit breakers: each limit opens at its threshold and closes below it, the open and remaining
// gauges follow, and a retry budget's limit moves with the requests in flight.
#include <catch2/catch.hpp>

#include "source/upstream/resource_manager.h"

namespace remora::upstream {
namespace {

constexpr char kPrefix[] = "cluster.c.circuit_breakers.default.";

int64_t gauge(stats::Store& store, const std::string& name) {
  return store.gauge(kPrefix + name).value();
}

TEST_CASE("a breaker opens at its limit and closes below it", "[upstream]") {
  stats::Store store;
  CircuitBreakerConfig config;
  config.max_requests = 2;
  config.track_remaining = true;
  ResourceManager rm(config, store, "c", RoutingPriority::kDefault);
  Resource& rq = rm.requests();
  CHECK(rq.canCreate());
  CHECK(gauge(store, "remaining_rq") == 2);
  rq.inc();
  CHECK(gauge(store, "rq_open") == 0);
  CHECK(gauge(store, "remaining_rq") == 1);
  rq.inc();
  CHECK_FALSE(rq.canCreate());
  CHECK(gauge(store, "rq_open") == 1);
  CHECK(gauge(store, "remaining_rq") == 0);
  rq.inc();  // An overshoot by a racing worker: remaining stays at 0.
  CHECK(gauge(store, "remaining_rq") == 0);
  rq.dec();
  CHECK(gauge(store, "rq_open") == 1);
  rq.dec();
  CHECK(rq.canCreate());
  CHECK(gauge(store, "rq_open") == 0);
  CHECK(gauge(store, "remaining_rq") == 1);
  rq.dec();
  CHECK(gauge(store, "remaining_rq") == 2);
}

TEST_CASE("breakers default to Envoy's limits without remaining gauges", "[upstream]") {
  stats::Store store;
  ResourceManager rm(CircuitBreakerConfig{}, store, "c", RoutingPriority::kDefault);
  CHECK(rm.connections().max() == 1024);
  CHECK(rm.pendingRequests().max() == 1024);
  CHECK(rm.requests().max() == 1024);
  CHECK(rm.retries().max() == 3);
  for (const auto& entry : store.snapshot())
    CHECK(entry.name.find("remaining_") == std::string::npos);
  CHECK(gauge(store, "cx_open") == 0);
}

TEST_CASE("a limit of zero is open from the start", "[upstream]") {
  stats::Store store;
  CircuitBreakerConfig config;
  config.max_retries = 0;
  ResourceManager rm(config, store, "c", RoutingPriority::kDefault);
  CHECK_FALSE(rm.retries().canCreate());
  CHECK(gauge(store, "rq_retry_open") == 1);
}

TEST_CASE("a retry budget allows a share of active and pending requests", "[upstream]") {
  stats::Store store;
  CircuitBreakerConfig config;
  config.retry_budget = CircuitBreakerConfig::RetryBudget{25.0, 2};
  ResourceManager rm(config, store, "c", RoutingPriority::kDefault);
  CHECK(rm.retries().max() == 2);  // min_retry_concurrency while load is low.
  for (int i = 0; i < 16; ++i) rm.requests().inc();
  for (int i = 0; i < 4; ++i) rm.pendingRequests().inc();
  CHECK(rm.retries().max() == 5);  // 25% of 20.
}

TEST_CASE("high priority breakers have their own stats", "[upstream]") {
  stats::Store store;
  CircuitBreakerConfig config;
  config.max_connections = 0;
  ResourceManager rm(config, store, "c", RoutingPriority::kHigh);
  CHECK(store.gauge("cluster.c.circuit_breakers.high.cx_open").value() == 1);
}

}  // namespace
}  // namespace remora::upstream
