// RANDOM: uniform over equal weights, proportional to load_balancing_weight otherwise.
#include <catch2/catch.hpp>

#include "source/upstream/random.h"
#include "test/upstream/test_hosts.h"

namespace remora::upstream {
namespace {

TEST_CASE("random over no hosts returns none", "[upstream]") {
  RandomLoadBalancer lb(hosts(0), 1);
  CHECK(lb.chooseHost(nullptr) == nullptr);
}

TEST_CASE("random picks hosts of equal weight evenly", "[upstream]") {
  RandomLoadBalancer lb(hosts(4), 11);
  auto counts = countPicks(lb, 8000);
  for (uint16_t p : {8000, 8001, 8002, 8003}) CHECK(counts[p] == Approx(2000).epsilon(0.06));
}

TEST_CASE("random picks hosts in proportion to their weights", "[upstream]") {
  RandomLoadBalancer lb(weightedHosts({3, 1}), 11);
  auto counts = countPicks(lb, 4000);
  // Within 3 percentage points of the 75% / 25% shares.
  CHECK(counts[8000] / 4000.0 == Approx(0.75).margin(0.03));
  CHECK(counts[8001] / 4000.0 == Approx(0.25).margin(0.03));
}

TEST_CASE("random gives a light host only its small share", "[upstream]") {
  // Weights are at least 1 after config validation; large spreads still work.
  RandomLoadBalancer lb(weightedHosts({1, 1000}), 11);
  auto counts = countPicks(lb, 10000);
  CHECK(counts[8000] < 40);
}

TEST_CASE("random balancers with different seeds pick different sequences", "[upstream]") {
  RandomLoadBalancer a(hosts(8), 1), b(hosts(8), 2);
  std::vector<uint16_t> from_a, from_b;
  for (int i = 0; i < 20; ++i) {
    from_a.push_back(port(a.chooseHost(nullptr)));
    from_b.push_back(port(b.chooseHost(nullptr)));
  }
  CHECK(from_a != from_b);
}

TEST_CASE("fast random draws below a bound stay below it and cover it", "[upstream]") {
  FastRandom random(42);
  std::vector<int> seen(7, 0);
  for (int i = 0; i < 7000; ++i) {
    const uint64_t v = random.below(7);
    REQUIRE(v < 7);
    ++seen[v];
  }
  for (int n : seen) CHECK(n == Approx(1000).epsilon(0.15));
}

}  // namespace
}  // namespace remora::upstream
