// A third-party xDS client against the mock control plane: @grpc/grpc-js-xds (npm, installed by
// tools/setup into build/node-xds) resolves xds:///echo-service through remora-mock-cp and calls
// the backend that test/integration/grpc_js_xds/client.js serves. This proves the mock speaks xDS
// as the xDS ecosystem does, not just our own client's dialect.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <regex>
#include <sstream>
#include <string>
#include <thread>

#include "test/support/mock_cp.h"
#include "test/support/process.h"

namespace remora::testing {
namespace {

using namespace std::chrono_literals;

// node on $PATH, or "" when there is none.
std::string findNode() {
  const char* path = std::getenv("PATH");
  std::istringstream dirs(path != nullptr ? path : "");
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    const std::string candidate = (dir.empty() ? "." : dir) + "/node";
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return "";
}

// Where tools/setup installed the npm packages; REMORA_NODE_XDS_DIR overrides it.
std::string nodeModules() {
  const char* dir = std::getenv("REMORA_NODE_XDS_DIR");
  return std::string(dir != nullptr ? dir : REMORA_SOURCE_DIR "/build/node-xds") + "/node_modules";
}

// What grpc-js-xds resolves xds:///echo-service with: an API listener whose HTTP connection
// manager gets its routes by RDS, a route to an EDS cluster, all over ADS. The endpoint is
// published later, once the backend's port is known.
constexpr char kServiceResources[] = R"(resources:
- "@type": type.googleapis.com/envoy.config.listener.v3.Listener
  name: echo-service
  api_listener:
    api_listener:
      "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
      stat_prefix: echo
      rds:
        route_config_name: echo-route
        config_source: {ads: {}, resource_api_version: V3}
      http_filters:
      - name: envoy.filters.http.router
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router
- "@type": type.googleapis.com/envoy.config.route.v3.RouteConfiguration
  name: echo-route
  virtual_hosts:
  - name: echo
    domains: ["*"]
    routes:
    - match: {prefix: ""}
      route: {cluster: echo-cluster}
- "@type": type.googleapis.com/envoy.config.cluster.v3.Cluster
  name: echo-cluster
  type: EDS
  eds_cluster_config:
    eds_config: {ads: {}, resource_api_version: V3}
  lb_policy: ROUND_ROBIN
)";

std::string endpointResources(int port) {
  return R"(resources:
- "@type": type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment
  cluster_name: echo-cluster
  endpoints:
  - locality: {region: local}
    load_balancing_weight: 1
    lb_endpoints:
    - endpoint:
        address:
          socket_address: {address: 127.0.0.1, port_value: )" +
         std::to_string(port) + "}\n";
}

// The backend port client.js prints, once it does.
std::optional<int> waitForBackendPort(Process& node, std::chrono::milliseconds timeout) {
  static const std::regex kLine("backend-port=(\\d+)");
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline && node.running()) {
    std::smatch m;
    const std::string out = node.stdoutText();
    if (std::regex_search(out, m, kLine)) return std::stoi(m[1]);
    std::this_thread::sleep_for(20ms);
  }
  return std::nullopt;
}

TEST_CASE("grpc-js-xds resolves an xds target through the mock control plane to a backend",
          "[mock_cp][node]") {
  const std::string node = findNode();
  if (node.empty()) {
    WARN("SKIPPED: node is not installed, so the grpc-js-xds client cannot run");
    return;
  }
  const std::string modules = nodeModules();
  if (!std::filesystem::exists(modules + "/@grpc/grpc-js-xds")) {
    FAIL("@grpc/grpc-js-xds is not installed in " << modules << ": run tools/setup");
  }
  MockControlPlane cp;
  if (!cp.start(REMORA_MOCK_CP, "")) FAIL(cp.error());
  INFO(cp.error());
  REQUIRE(cp.setResources(kServiceResources) == 2);

  TempDir work;
  Process client("/usr/bin/env", {"NODE_PATH=" + modules, node,
                                  REMORA_SOURCE_DIR "/test/integration/grpc_js_xds/client.js",
                                  std::to_string(cp.xdsPort()), work.path()});
  std::optional<int> backend_port = waitForBackendPort(client, 30s);
  INFO(client.describe());
  REQUIRE(backend_port);
  REQUIRE(cp.setResources(endpointResources(*backend_port)) == 3);

  std::optional<int> code = client.waitExit(60s);
  INFO("mock control plane:\n" << cp.describe());
  REQUIRE(code.has_value());
  CHECK(*code == 0);
  CHECK_THAT(client.stdoutText(), Catch::Contains("reply=backend got 'hello'"));
  // Every type was accepted, not just fetched.
  for (const std::string type :
       {"Listener", "RouteConfiguration", "Cluster", "ClusterLoadAssignment"}) {
    INFO(type);
    CHECK(cp.waitForRequest(
        [&](const MockCpRequest& r) {
          return r.node_id == "grpc-js-xds-test" && r.ack == true &&
                 r.type_url.ends_with("." + type);
        },
        1s));
  }
}

}  // namespace
}  // namespace remora::testing
