// ORIGINAL_DST clusters through the real binary configured over xDS: with use_http_header each
// request goes to the address its x-envoy-original-dst-host names, a value that is no IP:port
// gets a 503, upstream_port_override replaces the port, and /clusters lists the hosts in use
// until they have been idle for cleanup_interval.
#include <catch2/catch.hpp>
#include <chrono>
#include <string>

#include "test/support/http_backend.h"
#include "test/support/http_integration.h"
#include "test/support/http_test_client.h"
#include "test/support/sockets.h"
#include "test/support/xds_bootstrap.h"
#include "test/support/xds_integration.h"

namespace remora::testing {
namespace {

using namespace std::chrono_literals;

std::string originalDstCluster(const std::string& name, const std::string& lb_config) {
  return std::string("- \"@type\": ") + kClusterType + "\n  name: " + name +
         "\n  type: ORIGINAL_DST\n  lb_policy: CLUSTER_PROVIDED\n  connect_timeout: 1s\n"
         "  cleanup_interval: 0.2s\n  original_dst_lb_config: " +
         lb_config + "\n";
}

ClientResponse getTo(uint16_t port, const std::string& destination) {
  HttpTestClient client(port, "127.0.0.1", 5s);
  ClientRequest req = get("/");
  req.headers.push_back({"x-envoy-original-dst-host", destination});
  return client.request(req);
}

TEST_CASE("xDS: an ORIGINAL_DST cluster sends each request to the host its header names", "[xds]") {
  HttpBackend a("a"), b("b");
  XdsProxy p;
  const std::string source = configSource(p.spec);
  startXdsProxy(p, resourcesYaml({rdsListener("ingress", "ingress-routes", source),
                                  routeTo("ingress-routes", "passthrough"),
                                  originalDstCluster("passthrough", "{use_http_header: true}")}));
  INFO(p.remora->describe() << "\n" << p.cp.describe());
  const std::string to_a = "127.0.0.1:" + std::to_string(a.port());
  const std::string to_b = "127.0.0.1:" + std::to_string(b.port());
  for (int i = 0; i < 3; ++i) {
    ClientResponse ra = getTo(p.port, to_a);
    CHECK(ra.status == 200);
    CHECK(ra.body == "a");
    ClientResponse rb = getTo(p.port, to_b);
    CHECK(rb.status == 200);
    CHECK(rb.body == "b");
  }
  const std::string clusters = p.remora->admin("GET", "/clusters").body;
  CHECK_THAT(clusters, Catch::Contains("passthrough::" + to_a + "::health_flags::healthy"));
  CHECK_THAT(clusters, Catch::Contains("passthrough::" + to_b + "::health_flags::healthy"));

  ClientResponse bad = getTo(p.port, "not-an-address");
  CHECK(bad.status == 503);
  CHECK(p.remora->stat("cluster.passthrough.original_dst_host_invalid") == 1);

  // Idle past cleanup_interval (0.2 s), the hosts leave the cluster.
  REQUIRE(waitFor(
      [&] {
        return p.remora->admin("GET", "/clusters").body.find("passthrough::127.0.0.1:") ==
               std::string::npos;
      },
      5s));
  // And come back when used again.
  CHECK(getTo(p.port, to_a).body == "a");
}

TEST_CASE("xDS: upstream_port_override sends an ORIGINAL_DST request to another port", "[xds]") {
  HttpBackend a("a");
  XdsProxy p;
  const std::string source = configSource(p.spec);
  startXdsProxy(
      p, resourcesYaml(
             {rdsListener("ingress", "ingress-routes", source),
              routeTo("ingress-routes", "passthrough"),
              originalDstCluster("passthrough", "{use_http_header: true, upstream_port_override: " +
                                                    std::to_string(a.port()) + "}")}));
  INFO(p.remora->describe() << "\n" << p.cp.describe());
  ClientResponse r = getTo(p.port, "127.0.0.1:1");
  CHECK(r.status == 200);
  CHECK(r.body == "a");
}

}  // namespace
}  // namespace remora::testing
