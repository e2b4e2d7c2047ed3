// A ClusterLoadAssignment as buildCluster() and buildHostSet() read it: priorities, localities and
// their weights, EDS health status and the overprovisioning factor, with field paths on errors.
#include <catch2/catch.hpp>

#include "source/config/cluster_builder.h"
#include "source/upstream/priority_set.h"

namespace remora::config {
namespace {

absl::StatusOr<upstream::HostSetConstSharedPtr> hostsFrom(const std::string& yaml) {
  envoy::config::endpoint::v3::ClusterLoadAssignment cla;
  ParseReport report;
  REQUIRE(parseYaml(yaml, cla, report).ok());
  CHECK(report.warnings.empty());
  return buildHostSet(cla, "cla");
}

TEST_CASE("EDS priorities, localities, weights and health reach the hosts", "[config]") {
  auto set = hostsFrom(R"(
cluster_name: c
policy: {overprovisioning_factor: 200, weighted_priority_health: true}
endpoints:
- locality: {region: eu, zone: eu-1a, sub_zone: rack1}
  load_balancing_weight: 3
  lb_endpoints:
  - endpoint: {address: {socket_address: {address: 10.0.0.1, port_value: 80}}}
    health_status: DEGRADED
  - endpoint: {address: {socket_address: {address: 10.0.0.2, port_value: 80}}}
    health_status: DRAINING
- priority: 1
  lb_endpoints:
  - endpoint: {address: {socket_address: {address: 10.0.1.1, port_value: 80}}}
)");
  REQUIRE(set.ok());
  const upstream::HostSet& hosts = **set;
  CHECK(hosts.overprovisioning_factor == 200);
  CHECK(hosts.weighted_priority_health);
  REQUIRE(hosts.localities.size() == 2);
  CHECK(hosts.localities[0].zone == "eu-1a");
  CHECK(hosts.localities[0].sub_zone == "rack1");
  CHECK(hosts.localities[0].weight == 3);
  CHECK(hosts.localities[1].priority == 1);
  CHECK(hosts.localities[1].weight == 0);
  REQUIRE(hosts.hosts.size() == 3);
  CHECK(hosts.hosts[0].eds_health == upstream::EdsHealthStatus::kDegraded);
  CHECK(hosts.hosts[0].health() == upstream::HostHealth::kDegraded);
  CHECK(hosts.hosts[1].health() == upstream::HostHealth::kUnhealthy);
  CHECK(hosts.hosts[2].priority == 1);
  CHECK(hosts.hosts[2].locality == 1);
  CHECK(hosts.hosts[2].health() == upstream::HostHealth::kHealthy);
}

TEST_CASE("EDS health statuses map to balancer health as Envoy's", "[config]") {
  auto set = hostsFrom(R"(
endpoints:
- lb_endpoints:
  - {endpoint: {address: {socket_address: {address: 10.0.0.1, port_value: 80}}}}
  - {endpoint: {address: {socket_address: {address: 10.0.0.2, port_value: 80}}}, health_status: HEALTHY}
  - {endpoint: {address: {socket_address: {address: 10.0.0.3, port_value: 80}}}, health_status: UNHEALTHY}
  - {endpoint: {address: {socket_address: {address: 10.0.0.4, port_value: 80}}}, health_status: TIMEOUT}
  - {endpoint: {address: {socket_address: {address: 10.0.0.5, port_value: 80}}}, health_status: DEGRADED}
  - {endpoint: {address: {socket_address: {address: 10.0.0.6, port_value: 80}}}, health_status: DRAINING}
)");
  REQUIRE(set.ok());
  using upstream::HostHealth;
  std::vector<HostHealth> health;
  for (const auto& host : (*set)->hosts) health.push_back(host.health());
  CHECK(health == std::vector<HostHealth>{HostHealth::kHealthy, HostHealth::kHealthy,
                                          HostHealth::kUnhealthy, HostHealth::kUnhealthy,
                                          HostHealth::kDegraded, HostHealth::kUnhealthy});
}

TEST_CASE("a zero locality weight or overprovisioning factor is rejected at its path", "[config]") {
  auto zero_weight = hostsFrom(R"(
endpoints:
- load_balancing_weight: 0
  lb_endpoints:
  - endpoint: {address: {socket_address: {address: 10.0.0.1, port_value: 80}}}
)");
  REQUIRE_FALSE(zero_weight.ok());
  CHECK(zero_weight.status().message() ==
        "cla.endpoints[0].load_balancing_weight: must be at least 1");
  auto zero_factor = hostsFrom("policy: {overprovisioning_factor: 0}\n");
  REQUIRE_FALSE(zero_factor.ok());
  CHECK(zero_factor.status().message() ==
        "cla.policy.overprovisioning_factor: must be greater than 0");
}

TEST_CASE("a priority over 128 is rejected at its path", "[config]") {
  // Found by the xds_cluster fuzzer: priority 4,000,000,000 made the priority set allocate a
  // level for every number below it, and the process ran out of memory.
  auto set = hostsFrom(R"(
cluster_name: c
endpoints:
- priority: 4000000000
  lb_endpoints:
  - endpoint: {address: {socket_address: {address: 10.0.0.1, port_value: 80}}}
)");
  REQUIRE_FALSE(set.ok());
  CHECK(std::string(set.status().message()) ==
        "cla.endpoints[0].priority: 4000000000 is over the maximum of 128");
  auto edge = hostsFrom(R"(
cluster_name: c
endpoints:
- priority: 128
  lb_endpoints:
  - endpoint: {address: {socket_address: {address: 10.0.0.1, port_value: 80}}}
)");
  CHECK(edge.ok());
}

TEST_CASE("a built cluster carries its priority set and membership gauges", "[config]") {
  envoy::config::cluster::v3::Cluster proto;
  ParseReport report;
  REQUIRE(parseYaml(R"(
name: c
load_assignment:
  endpoints:
  - lb_endpoints:
    - {endpoint: {address: {socket_address: {address: 10.0.0.1, port_value: 80}}}}
    - {endpoint: {address: {socket_address: {address: 10.0.0.2, port_value: 80}}}, health_status: DEGRADED}
    - {endpoint: {address: {socket_address: {address: 10.0.0.3, port_value: 80}}}, health_status: UNHEALTHY}
)",
                    proto, report)
              .ok());
  stats::Store store;
  auto cluster = buildCluster(proto, "c", store, report);
  REQUIRE(cluster.ok());
  REQUIRE((*cluster)->priority_set != nullptr);
  CHECK((*cluster)->priority_set->hostSet() == (*cluster)->host_set);
  CHECK(store.gauge("cluster.c.membership_total").value() == 3);
  CHECK(store.gauge("cluster.c.membership_healthy").value() == 1);
  CHECK(store.gauge("cluster.c.membership_degraded").value() == 1);
  // An EDS update rebuilds the priority set for the new hosts.
  auto fewer = std::make_shared<upstream::HostSet>();
  fewer->hosts.push_back((*cluster)->host_set->hosts[0]);
  auto updated = withHosts(**cluster, fewer);
  CHECK(updated->priority_set->hostSet() == updated->host_set);
  CHECK(store.gauge("cluster.c.membership_total").value() == 1);
  CHECK(store.gauge("cluster.c.membership_degraded").value() == 0);
}

}  // namespace
}  // namespace remora::config
