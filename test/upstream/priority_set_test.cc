// How a priority set shares load between priority levels and health buckets: Envoy's
// overprovisioning factor, degraded spill-over, normalisation, and panic.
#include <catch2/catch.hpp>

#include "test/upstream/cluster_fixtures.h"

namespace remora::upstream {
namespace {

constexpr auto kHealthy = EdsHealthStatus::kHealthy;
constexpr auto kUnhealthy = EdsHealthStatus::kUnhealthy;
constexpr auto kDegraded = EdsHealthStatus::kDegraded;

struct Loads {
  std::vector<uint32_t> healthy, degraded;
  std::vector<bool> panic;
  bool operator==(const Loads&) const = default;
};

Loads loadsOf(const Cluster& cluster) {
  Loads out;
  for (const PriorityLevel& level : cluster.priority_set->levels()) {
    out.healthy.push_back(level.healthy_load);
    out.degraded.push_back(level.degraded_load);
    out.panic.push_back(level.panic);
  }
  return out;
}

TEST_CASE("a fully healthy priority 0 takes all the load", "[upstream]") {
  auto c = clusterOf(specs(3) + specs(2, 1));
  CHECK(loadsOf(*c) == Loads{{100, 0}, {0, 0}, {false, false}});
}

TEST_CASE("priority 0 keeps all load down to 1 in 1.4 hosts unhealthy", "[upstream]") {
  // 4 of 5 healthy: 140 * 4 / 5 = 112, capped at 100.
  auto c = clusterOf(specs(4) + specs(1, 0, kUnhealthy) + specs(5, 1));
  CHECK(loadsOf(*c).healthy == std::vector<uint32_t>{100, 0});
}

TEST_CASE("load spills to priority 1 as priority 0 loses health", "[upstream]") {
  // 5 of 10 healthy: 140 * 5 / 10 = 70; priority 1 takes the other 30.
  auto c = clusterOf(specs(5) + specs(5, 0, kUnhealthy) + specs(10, 1));
  CHECK(loadsOf(*c) == Loads{{70, 30}, {0, 0}, {false, false}});
}

TEST_CASE("the overprovisioning factor changes where spill-over starts", "[upstream]") {
  auto c = clusterOf(specs(5) + specs(5, 0, kUnhealthy) + specs(10, 1));
  auto set = std::make_shared<HostSet>(*c->host_set);
  set->overprovisioning_factor = 100;
  c->host_set = set;
  refreshHosts(*c);
  CHECK(loadsOf(*c).healthy == std::vector<uint32_t>{50, 50});
}

TEST_CASE("degraded hosts take what healthy ones cannot", "[upstream]") {
  // 2 healthy of 5: 56; 3 degraded: 84; the remaining 44 goes to degraded.
  auto c = clusterOf(specs(2) + specs(3, 0, kDegraded));
  CHECK(loadsOf(*c) == Loads{{56}, {44}, {false}});
}

TEST_CASE("loads are normalised when total health is below 100", "[upstream]") {
  // Each level: 2 of 10 healthy = 28; total 56; each gets 28 * 100 / 56 = 50. Panic is off.
  auto c = clusterOf(specs(2) + specs(8, 0, kUnhealthy) + specs(2, 1) + specs(8, 1, kUnhealthy));
  c->healthy_panic_threshold = 0;
  refreshHosts(*c);
  CHECK(loadsOf(*c) == Loads{{50, 50}, {0, 0}, {false, false}});
}

TEST_CASE("a level below the panic threshold is in panic", "[upstream]") {
  // 4 of 10 healthy is 40% < 50%; the only level, so all of it is in panic.
  auto c = clusterOf(specs(4) + specs(6, 0, kUnhealthy));
  CHECK(loadsOf(*c) == Loads{{100}, {0}, {true}});
  c->healthy_panic_threshold = 40;
  refreshHosts(*c);
  CHECK(loadsOf(*c).panic == std::vector<bool>{false});
}

TEST_CASE("with every level in panic load follows host counts", "[upstream]") {
  auto c = clusterOf(specs(4, 0, kUnhealthy) + specs(6, 1, kUnhealthy));
  CHECK(loadsOf(*c) == Loads{{40, 60}, {0, 0}, {true, true}});
}

TEST_CASE("no panic while the levels together are fully available", "[upstream]") {
  // Priority 0 is at 20% but priority 1 makes total availability 100: no level panics.
  auto c = clusterOf(specs(1) + specs(4, 0, kUnhealthy) + specs(10, 1));
  const Loads loads = loadsOf(*c);
  CHECK(loads.healthy == std::vector<uint32_t>{28, 72});
  CHECK(loads.panic == std::vector<bool>{false, false});
}

TEST_CASE("no healthy host and panic disabled puts the load on level 0", "[upstream]") {
  auto c = clusterOf(specs(3, 0, kUnhealthy));
  c->healthy_panic_threshold = 0;
  refreshHosts(*c);
  CHECK(loadsOf(*c) == Loads{{100}, {0}, {false}});
}

TEST_CASE("weighted_priority_health measures health by weight", "[upstream]") {
  std::vector<HostSpec> hosts{{0, kHealthy, 3, 0}, {0, kUnhealthy, 1, 0}, {1, kHealthy, 1, 0}};
  auto by_count = clusterOf(hosts);
  CHECK(loadsOf(*by_count).healthy == std::vector<uint32_t>{70, 30});
  auto by_weight = clusterOf(hosts);
  auto set = std::make_shared<HostSet>(*by_weight->host_set);
  set->weighted_priority_health = true;
  by_weight->host_set = set;
  refreshHosts(*by_weight);
  CHECK(loadsOf(*by_weight).healthy == std::vector<uint32_t>{100, 0});
}

TEST_CASE("a draw falls into healthy loads first and then degraded ones", "[upstream]") {
  auto c = clusterOf(specs(2) + specs(3, 0, kDegraded));  // 56 healthy, 44 degraded.
  const PrioritySet& set = *c->priority_set;
  CHECK(set.choose(0).source == HostSource::kHealthy);
  CHECK(set.choose(55).source == HostSource::kHealthy);
  CHECK(set.choose(56).source == HostSource::kDegraded);
  CHECK(set.choose(99).source == HostSource::kDegraded);
  CHECK(set.choose(155).source == HostSource::kHealthy);  // Taken modulo 100.
}

TEST_CASE("levels list each bucket's hosts and missing priorities are empty", "[upstream]") {
  auto c = clusterOf(specs(1) + specs(1, 0, kDegraded) + specs(1, 0, kUnhealthy) + specs(1, 2));
  const auto& levels = c->priority_set->levels();
  REQUIRE(levels.size() == 3);
  CHECK(levels[0].of(HostSource::kHealthy) == HostIndexes{0});
  CHECK(levels[0].of(HostSource::kDegraded) == HostIndexes{1});
  CHECK(levels[0].of(HostSource::kAll) == HostIndexes{0, 1, 2});
  CHECK(levels[1].of(HostSource::kAll).empty());
  CHECK(levels[2].of(HostSource::kHealthy) == HostIndexes{3});
  CHECK(c->priority_set->healthyCount() == 2);
  CHECK(c->priority_set->degradedCount() == 1);
}

}  // namespace
}  // namespace remora::upstream
