// Dynamic configuration end to end: the real remora binary subscribed to the mock control plane
// (remora-mock-cp) over ADS or per-type services, with state-of-the-world (GRPC) and delta
// (DELTA_GRPC) streams. Resources arrive and serve, changes reach the next request, bad resources
// are NACKed while the last good config keeps serving, and missing endpoints time out into an
// empty cluster rather than a proxy that never becomes ready.
#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <set>
#include <string>
#include <vector>

#include "test/support/http_backend.h"
#include "test/support/http_integration.h"
#include "test/support/http_test_client.h"
#include "test/support/mock_cp.h"
#include "test/support/sockets.h"
#include "test/support/xds_bootstrap.h"
#include "test/support/xds_integration.h"

namespace remora::testing {
namespace {

using namespace std::chrono_literals;

constexpr auto kTimeout = 10s;

bool contains(const std::vector<std::string>& names, const std::string& name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

// A request subscribing to `name` of `type_url`, in either protocol.
auto subscribes(const std::string& type_url, const std::string& name) {
  return [=](const MockCpRequest& r) {
    return r.type_url == type_url &&
           (contains(r.resource_names, name) || contains(r.subscribe, name));
  };
}

// Which backends answered `n` requests, each on a new connection.
std::set<std::string> backendsServing(uint16_t port, int n) {
  std::set<std::string> seen;
  for (int i = 0; i < n; ++i) {
    ClientResponse r = fetch(port, "/");
    INFO(r.error);
    CHECK(r.status == 200);
    seen.insert(r.body);
  }
  return seen;
}

TEST_CASE(
    "xDS: listener routes cluster and endpoints arrive over ADS and serve once ready turns 200",
    "[xds]") {
  const bool delta = GENERATE(false, true);
  INFO("api_type " << apiTypeName(delta));
  HttpBackend a1("a1");
  HttpBackend a2("a2");
  XdsBootstrapSpec spec;
  spec.delta = delta;
  TempDir dir;
  MockControlPlane cp;
  // Without its routes and endpoints the listener and the cluster stay warming.
  startControlPlane(cp, dir,
                    resourcesYaml({rdsListener("ingress", "ingress-routes", configSource(spec)),
                                   edsCluster("alpha", configSource(spec))}));
  spec.xds_port = cp.xdsPort();
  auto remora = launchRemora(xdsBootstrap(spec));
  INFO(remora->describe() << "\n" << cp.describe());
  REQUIRE(cp.waitForRequest(subscribes(kRouteType, "ingress-routes"), kTimeout));
  REQUIRE(cp.waitForRequest(subscribes(kEndpointType, "alpha"), kTimeout));
  CHECK(firstReadyStatus(*remora) == 503);
  CHECK(remora->listenerPort("ingress") == 0);

  REQUIRE(cp.setResources(resourcesYaml({routeTo("ingress-routes", "alpha"),
                                         endpoints("alpha", {a1.port(), a2.port()})})) > 0);
  REQUIRE(remora->waitReady());
  uint16_t port = 0;
  REQUIRE(waitFor([&] { return (port = remora->listenerPort("ingress")) != 0; }, 5s));
  CHECK(backendsServing(port, 4) == std::set<std::string>{"a1", "a2"});
  for (const char* type : {kListenerType, kRouteType, kClusterType, kEndpointType}) {
    INFO("ACK of " << type);
    CHECK(cp.waitForRequest([&](const auto& r) { return r.type_url == type && r.ack == true; },
                            kTimeout));
  }
  for (const auto& r : cp.requests()) {
    CHECK(r.delta == delta);
    CHECK(r.api == "ads");
    CHECK(r.node_id == spec.node_id);
    CHECK_FALSE(r.error_detail.has_value());
  }
}

TEST_CASE("xDS: a route change over RDS reaches the next request on a kept-alive connection",
          "[xds]") {
  const bool delta = GENERATE(false, true);
  INFO("api_type " << apiTypeName(delta));
  HttpBackend a1("a1");
  HttpBackend b1("b1");
  XdsProxy p;
  p.spec.delta = delta;
  startXdsProxy(p,
                ingressResources(p.spec, "alpha", {{"alpha", {a1.port()}}, {"beta", {b1.port()}}}));
  INFO(p.remora->describe() << "\n" << p.cp.describe());
  HttpTestClient client(p.port);
  REQUIRE(client.connected());
  CHECK(client.request(get("/")).body == "a1");

  std::string error;
  REQUIRE(pushAndAwaitAcks(p.cp, resourcesYaml({routeTo("ingress-routes", "beta")}), {kRouteType},
                           &error));
  ClientResponse after = client.request(get("/"));
  INFO(after.error);
  CHECK(after.status == 200);
  CHECK(after.body == "b1");
  CHECK(b1.connectionsAccepted() == 1);
  CHECK(a1.requestsReceived() == 1);
}

TEST_CASE(
    "xDS: a Cluster with connect_timeout 0s is NACKed naming it and the field while traffic "
    "keeps flowing",
    "[xds]") {
  const bool delta = GENERATE(false, true);
  INFO("api_type " << apiTypeName(delta));
  HttpBackend a1("a1");
  XdsProxy p;
  p.spec.delta = delta;
  startXdsProxy(p, ingressResources(p.spec, "alpha", {{"alpha", {a1.port()}}}));
  INFO(p.remora->describe() << "\n" << p.cp.describe());

  const int64_t before = lastRequestSeq(p.cp);
  const int64_t version =
      p.cp.setResources(resourcesYaml({edsCluster("bad", configSource(p.spec), "0s")}));
  REQUIRE(version > 0);
  auto reply = waitForReply(p.cp, kClusterType, before, version);
  REQUIRE(reply);
  CHECK(reply->ack == false);
  const std::string detail = reply->error_detail.value_or("");
  CHECK_THAT(detail, Catch::Contains("'bad'") && Catch::Contains("connect_timeout"));

  CHECK(fetch(p.port, "/").body == "a1");
  CHECK(statReaches(*p.remora, "cluster_manager.cds.update_rejected", 1));
  bool shown = false;
  for (const auto& entry :
       dumpEntries(configDump(*p.remora), "type.googleapis.com/envoy.admin.v3.ClustersConfigDump",
                   "dynamic_active_clusters")) {
    if (stringAt(entry, "error_state.details") == detail) {
      shown = true;
      CHECK(stringAt(entry, "error_state.failed_configuration.name") == "bad");
    } else {
      CHECK_FALSE(hasField(entry, "error_state"));
    }
  }
  CHECK(shown);
  CHECK(clusterHosts(*p.remora).count("bad") == 0);
}

TEST_CASE(
    "xDS: a RouteConfiguration with an invalid regex is NACKed and the old routes keep "
    "serving",
    "[xds]") {
  const bool delta = GENERATE(false, true);
  INFO("api_type " << apiTypeName(delta));
  HttpBackend a1("a1");
  HttpBackend b1("b1");
  XdsProxy p;
  p.spec.delta = delta;
  startXdsProxy(p,
                ingressResources(p.spec, "alpha", {{"alpha", {a1.port()}}, {"beta", {b1.port()}}}));
  INFO(p.remora->describe() << "\n" << p.cp.describe());

  const int64_t before = lastRequestSeq(p.cp);
  const int64_t version =
      p.cp.setResources(resourcesYaml({regexRoute("ingress-routes", "/(unclosed", "beta")}));
  REQUIRE(version > 0);
  auto reply = waitForReply(p.cp, kRouteType, before, version);
  REQUIRE(reply);
  CHECK(reply->ack == false);
  const std::string detail = reply->error_detail.value_or("");
  CHECK_THAT(detail, Catch::Contains("'ingress-routes'") &&
                         Catch::Contains("virtual_hosts[0].routes[0].match.safe_regex.regex"));

  CHECK(fetch(p.port, "/").body == "a1");
  CHECK(statReaches(*p.remora, "control_plane.rds.update_rejected", 1));
  auto routes =
      dumpEntries(configDump(*p.remora), "type.googleapis.com/envoy.admin.v3.RoutesConfigDump",
                  "dynamic_route_configs");
  REQUIRE(routes.size() == 1);
  CHECK(stringAt(routes[0], "route_config.name") == "ingress-routes");
  CHECK(stringAt(routes[0], "error_state.details") == detail);
}

TEST_CASE("xDS: an EDS cluster whose endpoints never come serves 503 after initial_fetch_timeout",
          "[xds]") {
  const bool delta = GENERATE(false, true);
  INFO("api_type " << apiTypeName(delta));
  XdsBootstrapSpec spec;
  spec.delta = delta;
  TempDir dir;
  MockControlPlane cp;
  startControlPlane(cp, dir,
                    resourcesYaml({rdsListener("ingress", "ingress-routes", configSource(spec)),
                                   routeTo("ingress-routes", "alpha"),
                                   edsCluster("alpha", configSource(spec, "1s"))}));
  spec.xds_port = cp.xdsPort();
  auto remora = launchRemora(xdsBootstrap(spec));
  INFO(remora->describe() << "\n" << cp.describe());
  REQUIRE(cp.waitForRequest(subscribes(kEndpointType, "alpha"), kTimeout));
  CHECK(firstReadyStatus(*remora) == 503);

  REQUIRE(remora->waitReady(kTimeout));
  uint16_t port = 0;
  REQUIRE(waitFor([&] { return (port = remora->listenerPort("ingress")) != 0; }, 5s));
  HttpTestClient client(port, "127.0.0.1", 5s);
  REQUIRE(client.connected());
  ClientResponse r = client.request(get("/"));
  INFO(r.error);
  CHECK(r.status == 503);
  CHECK(r.body == "no healthy upstream");
  auto hosts = clusterHosts(*remora);
  REQUIRE(hosts.count("alpha") == 1);
  CHECK(hosts["alpha"] == 0);
}

TEST_CASE("xDS: per-type LDS CDS RDS and EDS services from api_config_source serve traffic",
          "[xds]") {
  const bool delta = GENERATE(false, true);
  INFO("api_type " << apiTypeName(delta));
  HttpBackend a1("a1");
  XdsProxy p;
  p.spec.delta = delta;
  p.spec.aggregated = false;
  startXdsProxy(p, ingressResources(p.spec, "alpha", {{"alpha", {a1.port()}}}));
  INFO(p.remora->describe() << "\n" << p.cp.describe());

  CHECK(fetch(p.port, "/").body == "a1");
  std::set<std::string> apis;
  for (const auto& r : p.cp.requests()) {
    apis.insert(r.api);
    CHECK(r.delta == delta);
  }
  CHECK(apis == std::set<std::string>{"lds", "cds", "rds", "eds"});
}

TEST_CASE("xDS: ADS through a google_grpc target_uri serves traffic", "[xds]") {
  const bool delta = GENERATE(false, true);
  INFO("api_type " << apiTypeName(delta));
  HttpBackend a1("a1");
  XdsProxy p;
  p.spec.delta = delta;
  p.spec.google_grpc = true;
  startXdsProxy(p, ingressResources(p.spec, "alpha", {{"alpha", {a1.port()}}}));
  INFO(p.remora->describe() << "\n" << p.cp.describe());
  CHECK(fetch(p.port, "/").body == "a1");
}

}  // namespace
}  // namespace remora::testing
