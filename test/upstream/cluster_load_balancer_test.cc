// A worker's balancer over a priority set: healthy hosts only while enough are up, spill-over to
// lower priorities and degraded hosts in the set's proportions, panic over all hosts, locality
// weights, retry host predicates, and consistent hashing shared across workers.
#include <catch2/catch.hpp>
#include <string>

#include <set>

#include "source/stats/store.h"
#include "source/upstream/cluster_load_balancer.h"
#include "test/upstream/cluster_fixtures.h"

namespace remora::upstream {
namespace {

constexpr auto kUnhealthy = EdsHealthStatus::kUnhealthy;
constexpr auto kDegraded = EdsHealthStatus::kDegraded;

std::map<uint16_t, int> countPicks(LoadBalancer& lb, int picks,
                                   const LoadBalancerContext* context = nullptr) {
  std::map<uint16_t, int> counts;
  for (int i = 0; i < picks; ++i) ++counts[portOf(lb.chooseHost(context))];
  return counts;
}

int sumPorts(const std::map<uint16_t, int>& counts, uint16_t from, uint16_t to) {
  int sum = 0;
  for (const auto& [port, n] : counts) {
    if (port >= from && port <= to) sum += n;
  }
  return sum;
}

class KeyContext : public LoadBalancerContext {
 public:
  std::optional<uint64_t> key;
  std::set<uint16_t> avoid;  // A previous_hosts predicate: ports tried before.
  uint32_t retries = 0;
  std::optional<uint64_t> hashKey() const override { return key; }
  uint32_t hostSelectionRetryCount() const override { return retries; }
  bool shouldSelectAnotherHost(const Host& host) const override {
    return avoid.contains(host.address.port());
  }
};

TEST_CASE("round robin skips unhealthy hosts while enough are healthy", "[upstream]") {
  auto c = clusterOf(specs(4) + specs(1, 0, kUnhealthy));
  ClusterLoadBalancer lb(*c, 1, 0);
  auto counts = countPicks(lb, 400);
  CHECK(counts[8004] == 0);
  CHECK(counts[8000] == 100);
  CHECK(counts[8003] == 100);
}

TEST_CASE("picks spill to priority 1 in the priority set's proportion", "[upstream]") {
  // Priority 0: 5 of 10 healthy, 70% of the load; priority 1 the other 30%.
  auto c = clusterOf(specs(5) + specs(5, 0, kUnhealthy) + specs(10, 1));
  ClusterLoadBalancer lb(*c, 7, 0);
  auto counts = countPicks(lb, 10000);
  CHECK(sumPorts(counts, 8005, 8009) == 0);
  CHECK(sumPorts(counts, 8000, 8004) == Approx(7000).margin(300));
  CHECK(sumPorts(counts, 8010, 8019) == Approx(3000).margin(300));
}

TEST_CASE("degraded hosts take only the load healthy ones cannot", "[upstream]") {
  auto c = clusterOf(specs(2) + specs(3, 0, kDegraded));  // 56% healthy, 44% degraded.
  ClusterLoadBalancer lb(*c, 3, 0);
  auto counts = countPicks(lb, 10000);
  CHECK(sumPorts(counts, 8000, 8001) == Approx(5600).margin(300));
  CHECK(sumPorts(counts, 8002, 8004) == Approx(4400).margin(300));
}

TEST_CASE("a level in panic balances over all its hosts and counts it", "[upstream]") {
  stats::Store store;
  auto c = clusterOf(specs(1) + specs(3, 0, kUnhealthy));  // 25% healthy < 50%.
  c->stats = std::make_shared<ClusterStats>(store, "c");
  ClusterLoadBalancer lb(*c, 5, 0);
  auto counts = countPicks(lb, 400);
  CHECK(counts.size() == 4);
  for (const auto& [port, n] : counts) CHECK(n == 100);
  CHECK(store.counter("cluster.c.lb_healthy_panic").value() == 400);
}

TEST_CASE("panic disabled leaves only the healthy host", "[upstream]") {
  auto c = clusterOf(specs(1) + specs(3, 0, kUnhealthy));
  c->healthy_panic_threshold = 0;
  refreshHosts(*c);
  ClusterLoadBalancer lb(*c, 5, 0);
  CHECK(countPicks(lb, 50) == std::map<uint16_t, int>{{8000, 50}});
}

TEST_CASE("no healthy host with panic disabled answers no host", "[upstream]") {
  auto c = clusterOf(specs(2, 0, kUnhealthy));
  c->healthy_panic_threshold = 0;
  refreshHosts(*c);
  ClusterLoadBalancer lb(*c, 5, 0);
  CHECK(lb.chooseHost(nullptr) == nullptr);
}

TEST_CASE("an empty cluster answers no host for every policy", "[upstream]") {
  for (LbPolicy policy : {LbPolicy::kRoundRobin, LbPolicy::kLeastRequest, LbPolicy::kRandom,
                          LbPolicy::kRingHash, LbPolicy::kMaglev}) {
    auto c = clusterOf({}, policy);
    ClusterLoadBalancer lb(*c, 5, 0);
    CHECK(lb.chooseHost(nullptr) == nullptr);
  }
}

TEST_CASE("locality weights share load between localities", "[upstream]") {
  // Locality 0 (weight 1): hosts 8000-8001; locality 1 (weight 3): hosts 8002-8003.
  std::vector<HostSpec> hosts{{0, EdsHealthStatus::kHealthy, 1, 0},
                              {0, EdsHealthStatus::kHealthy, 1, 0},
                              {0, EdsHealthStatus::kHealthy, 1, 1},
                              {0, EdsHealthStatus::kHealthy, 1, 1}};
  auto c = clusterOf(hosts, LbPolicy::kRoundRobin, {1, 3});
  c->locality_weighted = true;
  refreshHosts(*c);
  ClusterLoadBalancer lb(*c, 9, 0);
  auto counts = countPicks(lb, 4000);
  CHECK(sumPorts(counts, 8000, 8001) == 1000);
  CHECK(sumPorts(counts, 8002, 8003) == 3000);
}

TEST_CASE("a locality's weight shrinks with its availability", "[upstream]") {
  // Both weight 1; locality 1 has 1 of 2 hosts healthy: 1.4 * 0.5 = 0.7 of its weight.
  std::vector<HostSpec> hosts{{0, EdsHealthStatus::kHealthy, 1, 0},
                              {0, EdsHealthStatus::kHealthy, 1, 0},
                              {0, EdsHealthStatus::kHealthy, 1, 1},
                              {0, kUnhealthy, 1, 1}};
  auto c = clusterOf(hosts, LbPolicy::kRoundRobin, {1, 1});
  c->locality_weighted = true;
  refreshHosts(*c);
  ClusterLoadBalancer lb(*c, 9, 0);
  auto counts = countPicks(lb, 1700);
  CHECK(sumPorts(counts, 8000, 8001) == Approx(1000).margin(2));
  CHECK(counts[8002] == Approx(700).margin(2));
  CHECK(counts[8003] == 0);
}

TEST_CASE("a locality without a weight takes no load when locality-weighted", "[upstream]") {
  std::vector<HostSpec> hosts{{0, EdsHealthStatus::kHealthy, 1, 0},
                              {0, EdsHealthStatus::kHealthy, 1, 1}};
  auto c = clusterOf(hosts, LbPolicy::kRoundRobin, {2, 0});
  c->locality_weighted = true;
  refreshHosts(*c);
  ClusterLoadBalancer lb(*c, 9, 0);
  CHECK(countPicks(lb, 10) == std::map<uint16_t, int>{{8000, 10}});
}

TEST_CASE("consistent-hash tables give each locality its weight's share of keys", "[upstream]") {
  // Locality 0 (weight 1): one host of weight 1 and one of weight 3; locality 1 (weight 3): one
  // host; locality 2 (weight 0): one host that must get nothing.
  std::vector<HostSpec> hosts{{0, EdsHealthStatus::kHealthy, 1, 0},
                              {0, EdsHealthStatus::kHealthy, 3, 0},
                              {0, EdsHealthStatus::kHealthy, 1, 1},
                              {0, EdsHealthStatus::kHealthy, 1, 2}};
  for (LbPolicy policy : {LbPolicy::kRingHash, LbPolicy::kMaglev}) {
    auto c = clusterOf(hosts, policy, {1, 3, 0});
    c->locality_weighted = true;
    c->ring_hash.min_ring_size = 65536;  // Enough points that shares show within 10%.
    refreshHosts(*c);
    ClusterLoadBalancer lb(*c, 3, 0);
    std::map<uint16_t, int> counts;
    KeyContext context;
    for (uint64_t key = 0; key < 10000; ++key) {
      context.key = xxHash64("key-" + std::to_string(key));
      ++counts[portOf(lb.chooseHost(&context))];
    }
    INFO("policy " << static_cast<int>(policy) << ": " << counts[8000] << " " << counts[8001] << " "
                   << counts[8002] << " " << counts[8003]);
    // 1/4 of keys to locality 0, split 1:3 inside it; 3/4 to locality 1.
    CHECK(counts[8000] == Approx(625).epsilon(0.15));
    CHECK(counts[8001] == Approx(1875).epsilon(0.1));
    CHECK(counts[8002] == Approx(7500).epsilon(0.05));
    CHECK(counts[8003] == 0);
  }
}

TEST_CASE("a retry host predicate makes the balancer pick another host", "[upstream]") {
  for (LbPolicy policy : {LbPolicy::kRoundRobin, LbPolicy::kRandom, LbPolicy::kLeastRequest,
                          LbPolicy::kRingHash, LbPolicy::kMaglev}) {
    auto c = clusterOf(specs(3), policy);
    ClusterLoadBalancer lb(*c, 11, 0);
    KeyContext context;
    context.retries = 20;
    int avoided = 0;
    for (int i = 0; i < 200; ++i) {
      context.key = 1000 + i;
      context.avoid = {portOf(lb.chooseHost(&context))};
      if (!context.avoid.contains(portOf(lb.chooseHost(&context)))) ++avoided;
    }
    INFO("policy " << static_cast<int>(policy));
    CHECK(avoided == 200);
  }
}

TEST_CASE("without retries the predicate's rejected host still stands", "[upstream]") {
  auto c = clusterOf(specs(1));
  ClusterLoadBalancer lb(*c, 1, 0);
  KeyContext context;
  context.avoid = {8000};
  CHECK(portOf(lb.chooseHost(&context)) == 8000);
}

TEST_CASE("a request key maps to the same host on every worker", "[upstream]") {
  for (LbPolicy policy : {LbPolicy::kRingHash, LbPolicy::kMaglev}) {
    auto c = clusterOf(specs(8), policy);
    ClusterLoadBalancer worker0(*c, 1, 0), worker1(*c, 2, 1);
    KeyContext context;
    std::set<uint16_t> used;
    for (uint64_t key = 0; key < 1000; ++key) {
      context.key = key * 0x9e3779b97f4a7c15ULL;
      const uint16_t port = portOf(worker0.chooseHost(&context));
      CHECK(port == portOf(worker1.chooseHost(&context)));
      CHECK(port == portOf(worker0.chooseHost(&context)));
      used.insert(port);
    }
    CHECK(used.size() == 8);
  }
}

TEST_CASE("consistent hashing avoids unhealthy hosts and moves only their keys", "[upstream]") {
  for (LbPolicy policy : {LbPolicy::kRingHash, LbPolicy::kMaglev}) {
    auto all_up = clusterOf(specs(8), policy);
    auto one_down = clusterOf(specs(7) + specs(1, 0, kUnhealthy), policy);
    ClusterLoadBalancer before(*all_up, 1, 0), after(*one_down, 1, 0);
    KeyContext context;
    int moved = 0, others_moved = 0;
    for (uint64_t key = 0; key < 2000; ++key) {
      context.key = key * 0x9e3779b97f4a7c15ULL;
      const uint16_t was = portOf(before.chooseHost(&context));
      const uint16_t now = portOf(after.chooseHost(&context));
      CHECK(now != 8007);
      if (was == 8007) {
        ++moved;
      } else if (now != was) {
        ++others_moved;
      }
    }
    INFO("policy " << static_cast<int>(policy));
    CHECK(moved > 0);
    // Both rescale to the remaining hosts (the ring gives each more points, Maglev refills its
    // table), which moves a few other keys too: deterministic here, at most 10% of them.
    CHECK(others_moved <= 200);
  }
}

TEST_CASE("least request counts requests across the balancer's pickers", "[upstream]") {
  auto c = clusterOf(specs(2), LbPolicy::kLeastRequest);
  ClusterLoadBalancer lb(*c, 1, 0);
  const Host* busy = lb.chooseHost(nullptr);
  lb.onRequestStart(*busy);
  lb.onRequestStart(*busy);
  // With two hosts and two choices, the idle host wins whenever both are sampled.
  auto counts = countPicks(lb, 1000);
  CHECK(counts[portOf(busy)] < 400);
  lb.onRequestEnd(*busy);
  lb.onRequestEnd(*busy);
  counts = countPicks(lb, 1000);
  CHECK(counts[portOf(busy)] > 400);
}

}  // namespace
}  // namespace remora::upstream
