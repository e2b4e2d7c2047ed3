// Balancing by priority and health through the real binary configured over xDS: EDS priorities,
// health_status, the overprovisioning factor and panic decide which backends serve, as in Envoy,
// and /clusters and /stats show it.
#include <catch2/catch.hpp>
#include <map>
#include <string>
#include <vector>

#include "test/support/http_backend.h"
#include "test/support/http_integration.h"
#include "test/support/http_test_client.h"
#include "test/support/xds_bootstrap.h"
#include "test/support/xds_integration.h"

namespace remora::testing {
namespace {

using namespace std::chrono_literals;

struct Endpoint {
  uint16_t port;
  uint32_t priority = 0;
  std::string health = "HEALTHY";
};

// The ClusterLoadAssignment of `cluster`: one locality per priority used, in priority order.
std::string loadAssignment(const std::string& cluster, const std::vector<Endpoint>& eps) {
  std::string y = std::string("- \"@type\": ") + kEndpointType + "\n  cluster_name: " + cluster +
                  "\n  endpoints:\n";
  std::map<uint32_t, std::vector<Endpoint>> by_priority;
  for (const Endpoint& e : eps) by_priority[e.priority].push_back(e);
  for (const auto& [priority, list] : by_priority) {
    y += "  - priority: " + std::to_string(priority) + "\n    locality: {zone: zone-" +
         std::to_string(priority) + "}\n    lb_endpoints:\n";
    for (const Endpoint& e : list) {
      y += "    - endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: " +
           std::to_string(e.port) + "}}}\n      health_status: " + e.health + "\n";
    }
  }
  return y;
}

TEST_CASE("xDS: EDS priorities and health statuses steer traffic as Envoy's", "[xds]") {
  HttpBackend a("a"), b("b"), c("c"), d("d");
  XdsProxy p;
  startXdsProxy(p, ingressResources(p.spec, "svc", {{"svc", {a.port()}}}));
  INFO(p.remora->describe() << "\n" << p.cp.describe());
  const std::string source = configSource(p.spec);
  std::string error;

  // Priority 0: a healthy, b unhealthy (health 140 * 1 / 2 = 70); priority 1 takes the other 30%.
  REQUIRE(pushAndAwaitAcks(p.cp,
                           resourcesYaml({loadAssignment("svc", {{a.port(), 0, "HEALTHY"},
                                                                 {b.port(), 0, "UNHEALTHY"},
                                                                 {c.port(), 1, "HEALTHY"}})}),
                           {kEndpointType}, &error));
  auto by = spread(p.port, 400);
  INFO("a " << by["a"] << " b " << by["b"] << " c " << by["c"]);
  CHECK(by["b"] == 0);
  CHECK(by["a"] == Approx(280).margin(60));
  CHECK(by["c"] == Approx(120).margin(60));
  CHECK(by["a"] + by["c"] == 400);

  const std::string clusters = p.remora->admin("GET", "/clusters").body;
  CHECK_THAT(clusters, Catch::Contains("svc::127.0.0.1:" + std::to_string(b.port()) +
                                       "::health_flags::/failed_eds_health"));
  CHECK_THAT(clusters,
             Catch::Contains("svc::127.0.0.1:" + std::to_string(c.port()) + "::priority::1"));
  CHECK_THAT(clusters,
             Catch::Contains("svc::127.0.0.1:" + std::to_string(c.port()) + "::zone::zone-1"));
  CHECK(statReaches(*p.remora, "cluster.svc.membership_healthy", 2));
  CHECK(statReaches(*p.remora, "cluster.svc.membership_total", 3));

  // Priority 0 all down (DRAINING counts as down): priority 1 takes everything.
  REQUIRE(pushAndAwaitAcks(p.cp,
                           resourcesYaml({loadAssignment("svc", {{a.port(), 0, "DRAINING"},
                                                                 {b.port(), 0, "UNHEALTHY"},
                                                                 {c.port(), 1, "HEALTHY"}})}),
                           {kEndpointType}, &error));
  CHECK(spread(p.port, 50) == std::map<std::string, int>{{"c", 50}});

  // Degraded hosts serve only when healthy ones cannot carry the load: 3 healthy of 4 is
  // 140 * 3 / 4 >= 100, so the degraded one is idle.
  REQUIRE(pushAndAwaitAcks(p.cp,
                           resourcesYaml({loadAssignment("svc", {{a.port(), 0, "HEALTHY"},
                                                                 {b.port(), 0, "HEALTHY"},
                                                                 {c.port(), 0, "DEGRADED"},
                                                                 {d.port(), 0, "HEALTHY"}})}),
                           {kEndpointType}, &error));
  by = spread(p.port, 60);
  CHECK(by["c"] == 0);
  CHECK(by["a"] + by["b"] + by["d"] == 60);
  CHECK(statReaches(*p.remora, "cluster.svc.membership_degraded", 1));
}

TEST_CASE("xDS: a priority below the panic threshold balances over all its hosts", "[xds]") {
  HttpBackend a("a"), b("b"), c("c");
  XdsProxy p;
  startXdsProxy(p, ingressResources(p.spec, "svc", {{"svc", {a.port()}}}));
  INFO(p.remora->describe() << "\n" << p.cp.describe());
  std::string error;
  // 1 of 3 healthy is 33%, under the default 50% threshold: panic, every host takes load.
  REQUIRE(pushAndAwaitAcks(p.cp,
                           resourcesYaml({loadAssignment("svc", {{a.port(), 0, "HEALTHY"},
                                                                 {b.port(), 0, "UNHEALTHY"},
                                                                 {c.port(), 0, "UNHEALTHY"}})}),
                           {kEndpointType}, &error));
  auto by = spread(p.port, 60);
  CHECK(by["a"] == 20);
  CHECK(by["b"] == 20);
  CHECK(by["c"] == 20);
  CHECK(statReaches(*p.remora, "cluster.svc.lb_healthy_panic", 60));

  // A threshold of 0 disables panic: only the healthy host serves.
  const std::string source = configSource(p.spec);
  const std::string cluster = std::string("- \"@type\": ") + kClusterType +
                              "\n  name: svc\n  type: EDS\n  connect_timeout: 1s\n"
                              "  eds_cluster_config: {eds_config: " +
                              source +
                              "}\n  common_lb_config: {healthy_panic_threshold: {value: 0}}\n";
  REQUIRE(pushAndAwaitAcks(p.cp, resourcesYaml({cluster}), {kClusterType}, &error));
  CHECK(waitFor([&] { return spread(p.port, 10) == std::map<std::string, int>{{"a", 10}}; }, 5s));
}

}  // namespace
}  // namespace remora::testing
