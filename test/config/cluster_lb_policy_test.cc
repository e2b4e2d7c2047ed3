// lb_policy and least_request_lb_config as buildCluster() reads them: the implemented policies
// map to their balancers, the rest fall back to ROUND_ROBIN with a warning.
#include <catch2/catch.hpp>

#include "source/config/cluster_builder.h"
#include "test/config/cluster_build_fixture.h"

namespace remora::config {
namespace {

bool warnedAt(const Built& b, const std::string& path) {
  for (const auto& w : b.report.warnings) {
    if (w.rfind(path + ":", 0) == 0) return true;
  }
  return false;
}

TEST_CASE("a cluster without lb_policy uses round robin", "[config]") {
  Built b = build("");
  REQUIRE(b.cluster.ok());
  CHECK((*b.cluster)->lb_policy == upstream::LbPolicy::kRoundRobin);
  CHECK(b.report.warnings.empty());
}

TEST_CASE("lb_policy LEAST_REQUEST selects least request with Envoy's defaults", "[config]") {
  Built b = build("lb_policy: LEAST_REQUEST\n");
  REQUIRE(b.cluster.ok());
  CHECK((*b.cluster)->lb_policy == upstream::LbPolicy::kLeastRequest);
  CHECK((*b.cluster)->least_request.choice_count == 2);
  CHECK((*b.cluster)->least_request.active_request_bias == 1.0);
  CHECK(b.report.warnings.empty());
}

TEST_CASE("lb_policy RANDOM selects random without a warning", "[config]") {
  Built b = build("lb_policy: RANDOM\n");
  REQUIRE(b.cluster.ok());
  CHECK((*b.cluster)->lb_policy == upstream::LbPolicy::kRandom);
  CHECK(b.report.warnings.empty());
}

TEST_CASE("an unimplemented lb_policy falls back to round robin with a warning at its path",
          "[config]") {
  for (const char* policy : {"CLUSTER_PROVIDED", "LOAD_BALANCING_POLICY_CONFIG"}) {
    Built b = build(std::string("lb_policy: ") + policy + "\n");
    REQUIRE(b.cluster.ok());
    CHECK((*b.cluster)->lb_policy == upstream::LbPolicy::kRoundRobin);
    CHECK(warnedAt(b, std::string(kPath) + ".lb_policy"));
  }
}

TEST_CASE("least_request_lb_config sets choice_count and active_request_bias", "[config]") {
  Built b = build(R"(lb_policy: LEAST_REQUEST
least_request_lb_config:
  choice_count: 5
  active_request_bias: {default_value: 0.5, runtime_key: lb.bias}
)");
  REQUIRE(b.cluster.ok());
  CHECK((*b.cluster)->least_request.choice_count == 5);
  CHECK((*b.cluster)->least_request.active_request_bias == 0.5);
}

TEST_CASE("a choice_count below 2 is rejected with its field path", "[config]") {
  Built b = build("lb_policy: LEAST_REQUEST\nleast_request_lb_config: {choice_count: 1}\n");
  REQUIRE_FALSE(b.cluster.ok());
  CHECK(b.cluster.status().message() ==
        "static_resources.clusters[0].least_request_lb_config.choice_count: must be at least 2");
}

TEST_CASE("a negative active_request_bias falls back to 1.0 with a warning", "[config]") {
  Built b = build(
      "lb_policy: LEAST_REQUEST\n"
      "least_request_lb_config: {active_request_bias: {default_value: -1}}\n");
  REQUIRE(b.cluster.ok());
  CHECK((*b.cluster)->least_request.active_request_bias == 1.0);
  CHECK(warnedAt(
      b, std::string(kPath) + ".least_request_lb_config.active_request_bias.default_value"));
}

TEST_CASE("an active_request_bias of zero is kept", "[config]") {
  Built b = build(
      "lb_policy: LEAST_REQUEST\n"
      "least_request_lb_config: {active_request_bias: {default_value: 0}}\n");
  REQUIRE(b.cluster.ok());
  CHECK((*b.cluster)->least_request.active_request_bias == 0.0);
}

TEST_CASE("endpoint load_balancing_weight reaches the host set", "[config]") {
  Built b = build("lb_policy: RANDOM\n", R"(
load_assignment:
  endpoints:
  - lb_endpoints:
    - endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: 8001}}}
      load_balancing_weight: 3
    - endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: 8002}}}
)");
  REQUIRE(b.cluster.ok());
  const auto& hosts = (*b.cluster)->host_set->hosts;
  REQUIRE(hosts.size() == 2);
  CHECK(hosts[0].weight == 3);
  CHECK(hosts[1].weight == 1);
}

TEST_CASE("lb_policy RING_HASH takes ring_hash_lb_config sizes", "[config]") {
  Built b = build(
      "lb_policy: RING_HASH\n"
      "ring_hash_lb_config: {minimum_ring_size: 2048, maximum_ring_size: 4096}\n");
  REQUIRE(b.cluster.ok());
  CHECK((*b.cluster)->lb_policy == upstream::LbPolicy::kRingHash);
  CHECK((*b.cluster)->ring_hash.min_ring_size == 2048);
  CHECK((*b.cluster)->ring_hash.max_ring_size == 4096);
  CHECK(b.report.warnings.empty());
}

TEST_CASE("RING_HASH defaults to Envoy's 1024 and 8M ring sizes", "[config]") {
  Built b = build("lb_policy: RING_HASH\n");
  REQUIRE(b.cluster.ok());
  CHECK((*b.cluster)->ring_hash.min_ring_size == 1024);
  CHECK((*b.cluster)->ring_hash.max_ring_size == 8 * 1024 * 1024);
}

TEST_CASE("a ring hash minimum above its maximum is rejected at its path", "[config]") {
  Built b = build(
      "lb_policy: RING_HASH\n"
      "ring_hash_lb_config: {minimum_ring_size: 5000, maximum_ring_size: 4096}\n");
  REQUIRE_FALSE(b.cluster.ok());
  CHECK(b.cluster.status().message() ==
        "static_resources.clusters[0].ring_hash_lb_config.minimum_ring_size: must not exceed "
        "maximum_ring_size (4096)");
  Built big = build("lb_policy: RING_HASH\nring_hash_lb_config: {maximum_ring_size: 8388609}\n");
  REQUIRE_FALSE(big.cluster.ok());
  CHECK(big.cluster.status().message() ==
        "static_resources.clusters[0].ring_hash_lb_config.maximum_ring_size: must be at most "
        "8388608");
}

TEST_CASE("a MURMUR_HASH_2 ring warns and hashes with xxHash", "[config]") {
  Built b = build("lb_policy: RING_HASH\nring_hash_lb_config: {hash_function: MURMUR_HASH_2}\n");
  REQUIRE(b.cluster.ok());
  CHECK(warnedAt(b, std::string(kPath) + ".ring_hash_lb_config.hash_function"));
}

TEST_CASE("lb_policy MAGLEV takes a prime table_size and refuses others", "[config]") {
  Built b = build("lb_policy: MAGLEV\n");
  REQUIRE(b.cluster.ok());
  CHECK((*b.cluster)->lb_policy == upstream::LbPolicy::kMaglev);
  CHECK((*b.cluster)->maglev_table_size == 65537);
  Built small = build("lb_policy: MAGLEV\nmaglev_lb_config: {table_size: 307}\n");
  REQUIRE(small.cluster.ok());
  CHECK((*small.cluster)->maglev_table_size == 307);
  Built even = build("lb_policy: MAGLEV\nmaglev_lb_config: {table_size: 1000}\n");
  REQUIRE_FALSE(even.cluster.ok());
  CHECK(even.cluster.status().message() ==
        "static_resources.clusters[0].maglev_lb_config.table_size: 1000 is not a prime number");
}

TEST_CASE("common_lb_config sets the panic threshold and locality weighting", "[config]") {
  Built b = build(
      "common_lb_config:\n"
      "  healthy_panic_threshold: {value: 25.4}\n"
      "  locality_weighted_lb_config: {}\n");
  REQUIRE(b.cluster.ok());
  CHECK((*b.cluster)->healthy_panic_threshold == 25);
  CHECK((*b.cluster)->locality_weighted);
  CHECK(b.report.warnings.empty());
  Built defaults = build("");
  REQUIRE(defaults.cluster.ok());
  CHECK((*defaults.cluster)->healthy_panic_threshold == 50);
  CHECK_FALSE((*defaults.cluster)->locality_weighted);
}

TEST_CASE("locality weighting with a consistent-hash policy is accepted without a warning",
          "[config]") {
  Built b = build("lb_policy: MAGLEV\ncommon_lb_config: {locality_weighted_lb_config: {}}\n");
  REQUIRE(b.cluster.ok());
  CHECK((*b.cluster)->locality_weighted);
  CHECK(b.report.warnings.empty());
}

TEST_CASE("a panic threshold above 100 percent is rejected at its path", "[config]") {
  Built b = build("common_lb_config: {healthy_panic_threshold: {value: 150}}\n");
  REQUIRE_FALSE(b.cluster.ok());
  CHECK(b.cluster.status().message() ==
        "static_resources.clusters[0].common_lb_config.healthy_panic_threshold.value: must be "
        "between 0 and 100");
}

TEST_CASE("zone-aware routing is reported as not supported", "[config]") {
  Built b = build("common_lb_config: {zone_aware_lb_config: {min_cluster_size: 3}}\n");
  REQUIRE(b.cluster.ok());
  CHECK(warnedAt(b, std::string(kPath) + ".common_lb_config.zone_aware_lb_config"));
}

}  // namespace
}  // namespace remora::config
