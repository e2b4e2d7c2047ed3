// ROUND_ROBIN: every host in turn, per-worker start offsets, weighted interleaving when weights
// differ.
#include <catch2/catch.hpp>

#include "source/upstream/round_robin.h"
#include "test/upstream/test_hosts.h"

namespace remora::upstream {
namespace {

std::vector<uint16_t> picks(LoadBalancer& lb, int n) {
  std::vector<uint16_t> ports;
  for (int i = 0; i < n; ++i) ports.push_back(port(lb.chooseHost(nullptr)));
  return ports;
}

TEST_CASE("round robin visits every host in turn", "[upstream]") {
  RoundRobinLoadBalancer lb(hosts(3), 0);
  CHECK(picks(lb, 6) == std::vector<uint16_t>{8000, 8001, 8002, 8000, 8001, 8002});
}

TEST_CASE("round robin workers start at different hosts", "[upstream]") {
  RoundRobinLoadBalancer lb(hosts(3), 4);
  CHECK(port(lb.chooseHost(nullptr)) == 8001);
}

TEST_CASE("round robin over no hosts returns none", "[upstream]") {
  RoundRobinLoadBalancer lb(hosts(0), 0);
  CHECK(lb.chooseHost(nullptr) == nullptr);
}

TEST_CASE("round robin with equal weights above one is a plain rotation", "[upstream]") {
  RoundRobinLoadBalancer lb(weightedHosts({5, 5}), 0);
  CHECK(picks(lb, 4) == std::vector<uint16_t>{8000, 8001, 8000, 8001});
}

TEST_CASE("weighted round robin interleaves weights 3 to 1", "[upstream]") {
  RoundRobinLoadBalancer lb(weightedHosts({3, 1}), 0);
  // Smooth: the light host comes up inside each cycle of four, never after a run of three.
  CHECK(picks(lb, 8) == std::vector<uint16_t>{8000, 8000, 8001, 8000, 8000, 8000, 8001, 8000});
}

TEST_CASE("weighted round robin gives each host its weight's share", "[upstream]") {
  RoundRobinLoadBalancer lb(weightedHosts({3, 1}), 0);
  auto counts = countPicks(lb, 4000);
  CHECK(counts[8000] == 3000);
  CHECK(counts[8001] == 1000);
}

TEST_CASE("weighted round robin shares stay exact over three weights", "[upstream]") {
  RoundRobinLoadBalancer lb(weightedHosts({5, 3, 2}), 0);
  auto counts = countPicks(lb, 1000);
  CHECK(counts[8000] == 500);
  CHECK(counts[8001] == 300);
  CHECK(counts[8002] == 200);
}

TEST_CASE("weighted round robin workers start at different points of the schedule", "[upstream]") {
  RoundRobinLoadBalancer first(weightedHosts({1, 2}), 0);
  RoundRobinLoadBalancer second(weightedHosts({1, 2}), 1);
  CHECK(picks(first, 3) != picks(second, 3));
  // Each keeps the 1:2 proportion whatever its start.
  auto counts = countPicks(second, 3000);
  CHECK(counts[8000] == 1000);
  CHECK(counts[8001] == 2000);
}

}  // namespace
}  // namespace remora::upstream
